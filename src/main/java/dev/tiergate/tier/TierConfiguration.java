package dev.tiergate.tier;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The tier definitions in force, seeded from {@link TierProperties}.
 */
@Configuration(proxyBeanMethods = false)
class TierConfiguration {

	@Bean
	Tiers tiers(TierProperties properties) {
		return new Tiers(properties.effective());
	}

}
