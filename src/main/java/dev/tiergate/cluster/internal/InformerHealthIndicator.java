package dev.tiergate.cluster.internal;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

import dev.tiergate.cluster.ClusterView;

/**
 * Up once every informer has synced its cache from the API server; until then routing
 * knows no endpoints.
 */
class InformerHealthIndicator implements HealthIndicator {

	private final ClusterView clusterView;

	InformerHealthIndicator(ClusterView clusterView) {
		this.clusterView = clusterView;
	}

	@Override
	public Health health() {
		if (!this.clusterView.synced()) {
			return Health.down().withDetail("informers", "not synced").build();
		}
		return Health.up()
			.withDetail("nodes", this.clusterView.nodes().size())
			.withDetail("inferencePods", this.clusterView.inferencePods().size())
			.build();
	}

}
