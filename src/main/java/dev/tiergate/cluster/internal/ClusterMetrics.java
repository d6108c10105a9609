package dev.tiergate.cluster.internal;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;

import dev.tiergate.cluster.ClusterView;
import dev.tiergate.cluster.SharingProfiles;

/**
 * The cluster's meters, for alerts: whether the informers have synced
 * ({@code tiergate_cluster_informers_synced}), and how many GPU nodes do not run the
 * sharing profile their label selects ({@code tiergate_cluster_sharing_drifted_nodes}).
 * Drift is read from the API server (nodes and the device plugin's ConfigMap), so it is
 * recomputed at most once per {@link #DRIFT_REFRESH}, whatever the scrape interval; it is
 * NaN while it cannot be read.
 */
class ClusterMetrics implements MeterBinder {

	/** How long one drift count is reused. */
	static final Duration DRIFT_REFRESH = Duration.ofSeconds(30);

	private final ClusterView clusterView;

	private final SharingProfiles sharingProfiles;

	private final Clock clock;

	private Instant driftReadAt = Instant.MIN;

	private double drifted = Double.NaN;

	ClusterMetrics(ClusterView clusterView, SharingProfiles sharingProfiles, Clock clock) {
		this.clusterView = clusterView;
		this.sharingProfiles = sharingProfiles;
		this.clock = clock;
	}

	@Override
	public void bindTo(MeterRegistry registry) {
		Gauge.builder("tiergate.cluster.informers.synced", this, (m) -> m.clusterView.synced() ? 1 : 0)
			.description("1 once every Kubernetes informer (nodes, pods) has synced its cache, else 0")
			.register(registry);
		Gauge.builder("tiergate.cluster.sharing.drifted.nodes", this, ClusterMetrics::drifted)
			.description(
					"GPU nodes whose live sharing strategy or replicas differ from the profile their label selects")
			.register(registry);
	}

	synchronized double drifted() {
		Instant now = this.clock.instant();
		if (this.driftReadAt.plus(DRIFT_REFRESH).isAfter(now)) {
			return this.drifted;
		}
		this.driftReadAt = now;
		try {
			this.drifted = this.sharingProfiles.nodes().stream().filter(SharingProfiles.NodeStatus::drift).count();
		}
		catch (RuntimeException ex) {
			this.drifted = Double.NaN;
		}
		return this.drifted;
	}

}
