package dev.tiergate.cost;

import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import dev.tiergate.tier.Tier;

/**
 * Spill in a simulation: a request of a tier that may spill and that waited its
 * {@code spillAfter} for the fleet without a slot (or was turned away before) is served
 * by the hosted API instead, as Tiergate's live spill does, at the price sheet's hosted
 * price for its model and with the hosted API's own latency, while the month's spend
 * stays under a cap; once the cap is spent, it waits for the fleet as without spill.
 *
 * @param spillAfter per tier that may spill, the longest first wait for the fleet; a tier
 * not named never spills
 * @param hostedTtft the hosted API's time to first token
 * @param hostedTokenTime the hosted API's time per generated token after the first
 * @param monthlyCaps the monthly spend caps in US dollars that the sweep tries with every
 * fleet; the tiered run uses the largest
 */
public record SpillOption(Map<Tier, Duration> spillAfter, Duration hostedTtft, Duration hostedTokenTime,
		List<Double> monthlyCaps) {

	/**
	 * Validates the option.
	 * @throws IllegalArgumentException naming the field that is wrong
	 */
	public SpillOption {
		Map<Tier, Duration> after = new EnumMap<>(Tier.class);
		if (spillAfter != null) {
			spillAfter.forEach((tier, wait) -> {
				if (wait == null || wait.isNegative()) {
					throw new IllegalArgumentException("spill.spillAfter." + tier + " must be a duration of 0 or more");
				}
				after.put(tier, wait);
			});
		}
		spillAfter = java.util.Collections.unmodifiableMap(after);
		if (hostedTtft == null || hostedTtft.isNegative()) {
			throw new IllegalArgumentException("spill.hostedTtft must be a duration of 0 or more");
		}
		if (hostedTokenTime == null || hostedTokenTime.isNegative()) {
			throw new IllegalArgumentException("spill.hostedTokenTime must be a duration of 0 or more");
		}
		if (monthlyCaps == null || monthlyCaps.isEmpty()) {
			throw new IllegalArgumentException("spill.monthlyCaps must name at least one cap");
		}
		for (Double cap : monthlyCaps) {
			if (cap == null || !(cap >= 0) || cap > 1_000_000_000) {
				throw new IllegalArgumentException(
						"spill.monthlyCaps must be US dollars between 0 and 1e9, was " + cap);
			}
		}
		monthlyCaps = monthlyCaps.stream().distinct().sorted().toList();
	}

	/**
	 * Tiergate's default spill policy (P0 at once, P1 after 2 s, P2 never) with a hosted
	 * API answering its first token in 400 ms and one token each 15 ms after, and caps of
	 * $0, $100, $500, $1,000 and $5,000 a month.
	 * @return the option
	 */
	public static SpillOption defaults() {
		return new SpillOption(Map.of(Tier.P0, Duration.ZERO, Tier.P1, Duration.ofSeconds(2)), Duration.ofMillis(400),
				Duration.ofMillis(15), List.of(0.0, 100.0, 500.0, 1_000.0, 5_000.0));
	}

	/**
	 * The largest cap tried.
	 * @return US dollars a month
	 */
	public double largestCap() {
		return this.monthlyCaps.get(this.monthlyCaps.size() - 1);
	}

}
