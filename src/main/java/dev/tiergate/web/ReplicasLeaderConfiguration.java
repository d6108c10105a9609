package dev.tiergate.web;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.tiergate.cluster.Leadership;
import dev.tiergate.replicas.LeaderView;

/**
 * Joins leader election ({@code cluster}) to the replicas view ({@code replicas}), which
 * may not use each other: the view names the replica that holds the Lease.
 */
@Configuration(proxyBeanMethods = false)
class ReplicasLeaderConfiguration {

	@Bean
	LeaderView leaderView(ObjectProvider<Leadership> leadership) {
		return () -> leadership.getIfAvailable(() -> Leadership.SOLE).leader();
	}

}
