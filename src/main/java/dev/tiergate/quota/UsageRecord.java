package dev.tiergate.quota;

import java.time.LocalDate;

import dev.tiergate.tier.Tier;

/**
 * A tenant's usage on one day (UTC), for one tier and one model.
 *
 * @param day the day
 * @param tier the tier
 * @param model the model
 * @param requests completed requests
 * @param promptTokens prompt tokens
 * @param completionTokens completion tokens
 * @param gpuSeconds GPU-seconds attributed to the tenant's leases (a whole GPU for one
 * second is 1; see {@code metering})
 * @param gpuCost the GPU-seconds' price in US dollars (the price sheet's GPU hourly price
 * when they were used)
 * @param hostedRequests of the completed requests, those a hosted upstream served (they
 * spilled; their cost is the spill spend)
 */
public record UsageRecord(LocalDate day, Tier tier, String model, long requests, long promptTokens,
		long completionTokens, double gpuSeconds, double gpuCost, long hostedRequests) {

	/**
	 * A record of tokens only.
	 * @param day the day
	 * @param tier the tier
	 * @param model the model
	 * @param requests completed requests
	 * @param promptTokens prompt tokens
	 * @param completionTokens completion tokens
	 */
	public UsageRecord(LocalDate day, Tier tier, String model, long requests, long promptTokens,
			long completionTokens) {
		this(day, tier, model, requests, promptTokens, completionTokens, 0, 0, 0);
	}

	/**
	 * Prompt plus completion tokens.
	 * @return the total
	 */
	public long totalTokens() {
		return this.promptTokens + this.completionTokens;
	}

}
