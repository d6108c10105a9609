package dev.tiergate.cluster;

import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Tests for binding {@link ClusterProperties}: Tiergate's own namespace, the tier
 * ConfigMap and the leader election's durations, with their defaults and checks.
 */
class ClusterPropertiesBindingTests {

	private static ClusterProperties bind(Map<String, String> properties) {
		return new Binder(new MapConfigurationPropertySource(properties)).bindOrCreate("tiergate.cluster",
				ClusterProperties.class);
	}

	@Test
	void defaultsElectOnTiergateLeaderWithClientGosDurations() {
		ClusterProperties properties = bind(Map.of());
		assertThat(properties.ownNamespace()).isEmpty();
		assertThat(properties.tiersConfigMap()).isEqualTo("tiergate-tiers");
		assertThat(properties.leaderElection()).isEqualTo(ClusterProperties.LeaderElection.DEFAULTS);
		assertThat(properties.leaderElection().leaseDuration()).isEqualTo(Duration.ofSeconds(15));
	}

	@Test
	void bindsTheLeaderElectionAndTheOwnNamespace() {
		ClusterProperties properties = bind(Map.of("tiergate.cluster.own-namespace", " tiergate ",
				"tiergate.cluster.tiers-config-map", "tiers", "tiergate.cluster.leader-election.lease-duration", "2s",
				"tiergate.cluster.leader-election.renew-deadline", "1500ms",
				"tiergate.cluster.leader-election.retry-period", "250ms"));
		assertThat(properties.ownNamespace()).isEqualTo("tiergate");
		assertThat(properties.tiersConfigMap()).isEqualTo("tiers");
		assertThat(properties.leaderElection()).isEqualTo(new ClusterProperties.LeaderElection("tiergate-leader",
				Duration.ofSeconds(2), Duration.ofMillis(1500), Duration.ofMillis(250)));
	}

	@Test
	void refusesARenewDeadlineThatIsNotShorterThanTheLeaseDuration() {
		assertThatThrownBy(() -> bind(Map.of("tiergate.cluster.leader-election.renew-deadline", "15s")))
			.isInstanceOf(BindException.class)
			.rootCause()
			.hasMessageContaining("renew-deadline must be shorter than lease-duration");
	}

}
