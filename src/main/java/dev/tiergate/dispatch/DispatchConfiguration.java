package dev.tiergate.dispatch;

import java.time.Clock;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.tiergate.routing.BalancingPolicies;
import dev.tiergate.routing.EndpointRegistry;
import dev.tiergate.tier.Tiers;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Dispatch's beans.
 */
@Configuration(proxyBeanMethods = false)
class DispatchConfiguration {

	@Bean
	DispatchRuntime dispatchRuntime(EndpointRegistry registry, Tiers tiers, DispatchProperties properties, Clock clock,
			MeterRegistry meters, BalancingPolicies policies) {
		return new DispatchRuntime(registry, tiers, properties, clock, meters, policies);
	}

}
