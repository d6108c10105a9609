package dev.tiergate.tier;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The tier definitions in force, seeded from {@link TierProperties}, and kept in the
 * {@link TierSettingsStore} when there is one (the cluster's ConfigMap).
 */
@Configuration(proxyBeanMethods = false)
class TierConfiguration {

	@Bean
	Tiers tiers(TierProperties properties, ObjectProvider<TierSettingsStore> store) {
		Tiers tiers = new Tiers(properties.effective());
		store.ifAvailable(tiers::attach);
		return tiers;
	}

	@Bean
	TierSettingsHealthIndicator tierSettingsHealthIndicator(Tiers tiers) {
		return new TierSettingsHealthIndicator(tiers);
	}

}
