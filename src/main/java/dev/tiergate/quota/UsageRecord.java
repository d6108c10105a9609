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
 */
public record UsageRecord(LocalDate day, Tier tier, String model, long requests, long promptTokens,
		long completionTokens) {

	/**
	 * Prompt plus completion tokens.
	 * @return the total
	 */
	public long totalTokens() {
		return this.promptTokens + this.completionTokens;
	}

}
