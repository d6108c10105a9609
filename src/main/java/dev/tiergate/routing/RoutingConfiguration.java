package dev.tiergate.routing;

import java.time.Clock;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.tiergate.cluster.ClusterView;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Routing's beans.
 */
@Configuration(proxyBeanMethods = false)
class RoutingConfiguration {

	@Bean
	EndpointRegistry endpointRegistry(ClusterView clusterView, RoutingProperties properties, MeterRegistry meters) {
		EndpointRegistry registry = new EndpointRegistry(clusterView, properties);
		Gauge.builder("tiergate.routing.endpoints", registry, (r) -> r.count(true))
			.description("Endpoints accepting requests")
			.register(meters);
		Gauge.builder("tiergate.routing.inflight", registry, EndpointRegistry::inFlight)
			.description("Requests in flight on all endpoints")
			.register(meters);
		return registry;
	}

	@Bean
	EndpointHealth endpointHealth(EndpointRegistry registry, RoutingProperties properties, Clock clock,
			MeterRegistry meters) {
		return new EndpointHealth(registry, properties.health(), clock, meters);
	}

	@Bean
	BalancingPolicies balancingPolicies(EndpointRegistry registry, RoutingProperties properties) {
		return new BalancingPolicies(registry, properties);
	}

	@Bean
	RoutingMaintenance routingMaintenance(EndpointRegistry registry, EndpointHealth health,
			RoutingProperties properties, Clock clock) {
		return new RoutingMaintenance(registry, health, properties, clock);
	}

}
