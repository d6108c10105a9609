package dev.tiergate.spill;

import java.time.Clock;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.core.StringRedisTemplate;

import dev.tiergate.cost.PriceSheets;
import dev.tiergate.quota.TenantSpend;
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

	/** The tenant's page and usage APIs show its spill spend against its cap. */
	@Bean
	TenantSpend spillTenantSpend(SpillBudget budget) {
		return (tenant, month) -> {
			SpillCaps caps = budget.caps();
			double cap = caps.tenantCap(tenant);
			return new TenantSpend.Spend(budget.tenantSpend(tenant, month), (cap < 0) ? null : cap, caps.monthlyCap());
		};
	}

	@Bean
	Spillover spillover(SpillProperties properties, PriceSheets prices, SpillBudget budget, JsonMapper json,
			MeterRegistry meters) {
		return new Spillover(properties, prices, budget, new HostedClient(json), new SpillMetrics(meters));
	}

}
