package dev.tiergate.spill;

import java.time.Clock;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.core.StringRedisTemplate;

import dev.tiergate.cost.PriceSheets;
import io.micrometer.core.instrument.MeterRegistry;
import tools.jackson.databind.json.JsonMapper;

/**
 * Spill's beans.
 */
@Configuration(proxyBeanMethods = false)
class SpillConfiguration {

	@Bean
	SpillBudget spillBudget(StringRedisTemplate redis, SpillProperties properties, Clock clock) {
		return new SpillBudget(redis, properties, clock);
	}

	@Bean
	Spillover spillover(SpillProperties properties, PriceSheets prices, SpillBudget budget, JsonMapper json,
			MeterRegistry meters) {
		return new Spillover(properties, prices, budget, new HostedClient(json), new SpillMetrics(meters));
	}

}
