package dev.tiergate.replicas;

import java.time.Clock;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.core.StringRedisTemplate;

import dev.tiergate.dispatch.DispatchRuntime;
import dev.tiergate.replica.ReplicaIdentity;
import dev.tiergate.replicas.internal.RedisSlotLedger;
import dev.tiergate.routing.EndpointRegistry;
import dev.tiergate.tier.Tiers;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The replicas' beans: slot ownership through Redis when
 * {@code tiergate.replicas.enabled}, and in every case the view of the fleet and the
 * readiness part {@code slotOwnership}.
 */
@Configuration(proxyBeanMethods = false)
class ReplicasConfiguration {

	@Bean
	@ConditionalOnProperty(prefix = "tiergate.replicas", name = "enabled", havingValue = "true")
	SlotOwnership slotOwnership(DispatchRuntime runtime, EndpointRegistry registry, StringRedisTemplate redis,
			Tiers tiers, ReplicaIdentity identity, ReplicasProperties properties, Clock clock, MeterRegistry meters) {
		return new SlotOwnership(runtime, registry, new RedisSlotLedger(redis, properties.fleet()), tiers, identity,
				properties, clock, meters);
	}

	@Bean
	SlotOwnershipHealthIndicator slotOwnershipHealthIndicator(ObjectProvider<SlotOwnership> ownership) {
		return new SlotOwnershipHealthIndicator(ownership.getIfAvailable());
	}

	@Bean
	ReplicasView replicasView(DispatchRuntime runtime, ObjectProvider<SlotOwnership> ownership,
			ObjectProvider<LeaderView> leader, ReplicaIdentity identity, ReplicasProperties properties) {
		return new ReplicasView(runtime, ownership.getIfAvailable(), leader, identity, properties);
	}

}
