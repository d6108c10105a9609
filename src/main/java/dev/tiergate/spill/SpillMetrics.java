package dev.tiergate.spill;

import java.util.Locale;

import dev.tiergate.tier.Tier;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Spill's meters: {@code tiergate_spill_requests_total{model,tier,outcome}},
 * {@code tiergate_spill_cost_dollars_total{tenant}} (tenants are bounded by
 * configuration) and {@code tiergate_spill_cap_refusals_total{scope}} ({@code global} or
 * {@code tenant}; both exist from the start, at 0, for the cap alert).
 */
public class SpillMetrics {

	private final MeterRegistry meters;

	private final Counter[] capRefusals = new Counter[SpillBudget.Scope.values().length];

	/**
	 * Meters on a registry.
	 * @param meters the registry
	 */
	public SpillMetrics(MeterRegistry meters) {
		this.meters = meters;
		for (SpillBudget.Scope scope : SpillBudget.Scope.values()) {
			this.capRefusals[scope.ordinal()] = Counter.builder("tiergate.spill.cap.refusals")
				.description("Spills refused because a monthly spend cap was reached, by the cap's scope")
				.tag("scope", scope.name().toLowerCase(Locale.ROOT))
				.register(meters);
		}
	}

	/**
	 * Counts a spill that a cap refused.
	 * @param scope which cap
	 */
	public void capReached(SpillBudget.Scope scope) {
		this.capRefusals[scope.ordinal()].increment();
	}

	/**
	 * Counts a spill attempt.
	 * @param model the model
	 * @param tier the tier
	 * @param outcome {@code served}, {@code cap_reached}, {@code budget_unavailable},
	 * {@code hosted_rate_limited}, {@code hosted_error}, {@code hosted_timeout},
	 * {@code client_gone}
	 */
	public void request(String model, Tier tier, String outcome) {
		Counter.builder("tiergate.spill.requests")
			.description("Requests sent, or meant to be sent, to a hosted upstream, by outcome")
			.tag("model", model)
			.tag("tier", tier.name())
			.tag("outcome", outcome)
			.register(this.meters)
			.increment();
	}

	/**
	 * Adds what a tenant's spilled request cost.
	 * @param tenant the tenant
	 * @param dollars US dollars
	 */
	public void cost(String tenant, double dollars) {
		Counter.builder("tiergate.spill.cost.dollars")
			.description("US dollars spent on hosted upstreams")
			.tag("tenant", tenant)
			.register(this.meters)
			.increment(dollars);
	}

}
