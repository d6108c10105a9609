package dev.tiergate.cluster.internal;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import dev.tiergate.cluster.SharingProfile;
import dev.tiergate.cluster.SharingProfiles;
import dev.tiergate.cluster.InMemoryClusterView;
import dev.tiergate.routing.MutableClock;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link ClusterMetrics}.
 */
class ClusterMetricsTests {

	private final MutableClock clock = new MutableClock(Instant.parse("2026-11-29T00:00:00Z"));

	private final NodeStatuses profiles = new NodeStatuses();

	private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

	ClusterMetricsTests() {
		new ClusterMetrics(new InMemoryClusterView(), this.profiles, this.clock).bindTo(this.registry);
	}

	private double drifted() {
		return this.registry.get("tiergate.cluster.sharing.drifted.nodes").gauge().value();
	}

	@Test
	void countsDriftedNodesAndRereadsThemOnlyAfterTheRefreshInterval() {
		this.profiles.statuses = List.of(status("a", true), status("b", false), status("c", true));
		assertThat(drifted()).isEqualTo(2);
		this.profiles.statuses = List.of(status("a", false));
		assertThat(drifted()).isEqualTo(2);
		assertThat(this.profiles.reads).isEqualTo(1);
		this.clock.advance(ClusterMetrics.DRIFT_REFRESH);
		assertThat(drifted()).isZero();
		assertThat(this.profiles.reads).isEqualTo(2);
	}

	@Test
	void driftIsNotANumberWhileTheClusterCannotBeRead() {
		this.profiles.failing = true;
		assertThat(drifted()).isNaN();
	}

	@Test
	void informersSyncedIsOneOrZero() {
		assertThat(this.registry.get("tiergate.cluster.informers.synced").gauge().value())
			.isEqualTo(new InMemoryClusterView().synced() ? 1 : 0);
	}

	private static SharingProfiles.NodeStatus status(String node, boolean drift) {
		return new SharingProfiles.NodeStatus(node, "p", "mps", 4, drift ? "time-slicing" : "mps", 4, 4, 16, false,
				drift, drift ? List.of("strategy differs") : List.of());
	}

	/** Node statuses set by the test; every other method is unused here. */
	private static final class NodeStatuses implements SharingProfiles {

		List<NodeStatus> statuses = new ArrayList<>();

		boolean failing;

		int reads;

		@Override
		public List<NodeStatus> nodes() {
			this.reads++;
			if (this.failing) {
				throw new IllegalStateException("API server unreachable");
			}
			return this.statuses;
		}

		@Override
		public List<Stored> list() {
			throw new UnsupportedOperationException();
		}

		@Override
		public Stored get(String name) {
			throw new UnsupportedOperationException();
		}

		@Override
		public Saved put(SharingProfile profile) {
			throw new UnsupportedOperationException();
		}

		@Override
		public void delete(String name) {
			throw new UnsupportedOperationException();
		}

		@Override
		public Preview preview(SharingProfile profile, Target target) {
			throw new UnsupportedOperationException();
		}

		@Override
		public Applied apply(SharingProfile profile, Target target) {
			throw new UnsupportedOperationException();
		}

	}

}
