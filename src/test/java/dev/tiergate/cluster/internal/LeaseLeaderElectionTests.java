package dev.tiergate.cluster.internal;

import java.time.Duration;
import java.time.Instant;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.tiergate.cluster.ClusterProperties;
import dev.tiergate.cluster.NotLeaderException;
import dev.tiergate.fleet.KubernetesApiStandIn;
import dev.tiergate.replica.ReplicaIdentity;
import dev.tiergate.routing.MutableClock;
import io.kubernetes.client.openapi.apis.CoordinationV1Api;
import io.kubernetes.client.openapi.models.V1Lease;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Tests for {@link LeaseLeaderElection}, one round at a time on a fake clock against the
 * API stand-in: who acquires, when a follower may take over (only once the Lease has not
 * changed for its duration, by the follower's own clock), a released Lease taken at once,
 * and a leader that cannot renew stepping down.
 */
class LeaseLeaderElectionTests {

	private static final ClusterProperties.LeaderElection SETTINGS = new ClusterProperties.LeaderElection(
			"tiergate-leader", Duration.ofSeconds(2), Duration.ofMillis(1500), Duration.ofMillis(250));

	private final KubernetesApiStandIn kubernetes = new KubernetesApiStandIn().start();

	private final MutableClock clock = new MutableClock(Instant.parse("2026-11-29T12:00:00Z"));

	private final LeaseLeaderElection a = election("a");

	private final LeaseLeaderElection b = election("b");

	private LeaseLeaderElection election(String name) {
		return new LeaseLeaderElection(this.kubernetes.apiClient(), "tiergate", new ReplicaIdentity(name), SETTINGS,
				this.clock);
	}

	@AfterEach
	void stop() {
		this.kubernetes.close();
	}

	private V1Lease lease() throws Exception {
		return new CoordinationV1Api(this.kubernetes.apiClient()).readNamespacedLease("tiergate-leader", "tiergate")
			.execute();
	}

	@Test
	void theFirstReplicaToTryLeadsAndTheOtherNamesIt() throws Exception {
		this.a.tick();
		this.b.tick();
		assertThat(this.a.isLeader()).isTrue();
		assertThat(this.b.isLeader()).isFalse();
		assertThat(this.b.leader()).contains("a");
		assertThat(lease().getSpec().getHolderIdentity()).isEqualTo("a");
		assertThat(lease().getSpec().getLeaseDurationSeconds()).isEqualTo(2);
		assertThatThrownBy(() -> this.b.requireLeader("changing PriorityClasses"))
			.isInstanceOfSatisfying(NotLeaderException.class, (ex) -> {
				assertThat(ex.status()).isEqualTo(503);
				assertThat(ex.leader()).isEqualTo("a");
				assertThat(ex.retryAfter()).isEqualTo(Duration.ofSeconds(1));
				assertThat(ex.properties()).containsEntry("leader", "a");
			});
		this.a.requireLeader("changing PriorityClasses");
	}

	@Test
	void aFollowerTakesOverOnlyOnceTheLeaseHasNotChangedForItsDuration() throws Exception {
		this.a.tick();
		this.b.tick();
		this.clock.advance(Duration.ofMillis(1500));
		this.a.tick();
		this.clock.advance(Duration.ofMillis(1000));
		this.b.tick();
		// Two and a half seconds since b first looked, but a renewed a second ago.
		assertThat(this.b.isLeader()).isFalse();
		this.clock.advance(Duration.ofMillis(1999));
		this.b.tick();
		assertThat(this.b.isLeader()).isFalse();
		this.clock.advance(Duration.ofMillis(1));
		this.b.tick();
		assertThat(this.b.isLeader()).isTrue();
		assertThat(lease().getSpec().getHolderIdentity()).isEqualTo("b");
		assertThat(lease().getSpec().getLeaseTransitions()).isEqualTo(1);
		// a, back after a pause, sees b and stops leading.
		assertThat(this.a.isLeader()).isTrue();
		this.a.tick();
		assertThat(this.a.isLeader()).isFalse();
		assertThat(this.a.leader()).contains("b");
	}

	@Test
	void aReleasedLeaseIsTakenAtOnce() throws Exception {
		this.a.tick();
		this.b.tick();
		this.a.release();
		assertThat(this.a.isLeader()).isFalse();
		assertThat(lease().getSpec().getHolderIdentity()).isNull();
		this.b.tick();
		assertThat(this.b.isLeader()).isTrue();
	}

	@Test
	void aLeaderThatCannotRenewStepsDownAfterTheRenewDeadline() {
		SimpleMeterRegistry meters = new SimpleMeterRegistry();
		this.a.bindTo(meters);
		this.a.tick();
		assertThat(meters.get("tiergate.leader").tag("replica", "a").gauge().value()).isEqualTo(1);
		this.kubernetes.close();
		this.clock.advance(Duration.ofMillis(1499));
		this.a.tick();
		assertThat(this.a.isLeader()).isTrue();
		this.clock.advance(Duration.ofMillis(1));
		this.a.tick();
		assertThat(this.a.isLeader()).isFalse();
		assertThat(meters.get("tiergate.leader").tag("replica", "a").gauge().value()).isZero();
		assertThat(meters.get("tiergate.leader.transitions").tag("change", "acquired").counter().count()).isEqualTo(1);
		assertThat(meters.get("tiergate.leader.transitions").tag("change", "lost").counter().count()).isEqualTo(1);
	}

}
