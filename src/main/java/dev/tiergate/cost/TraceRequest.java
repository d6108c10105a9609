package dev.tiergate.cost;

import dev.tiergate.tier.Tier;

/**
 * One request of a trace.
 *
 * @param offsetNanos when it arrives, in nanoseconds after the trace's first request
 * @param tenant who sent it, or {@code null} when the trace does not say
 * @param tier its tier, or {@code null} when the trace does not say (a
 * {@link TierAssignment} gives it one)
 * @param model the model asked for, or {@code null} when the trace does not say
 * @param promptTokens prompt tokens, 0 or more
 * @param outputTokens generated tokens, 1 or more
 */
public record TraceRequest(long offsetNanos, String tenant, Tier tier, String model, int promptTokens,
		int outputTokens) {

	/**
	 * The same request with another tier.
	 * @param tier the tier
	 * @return the request
	 */
	public TraceRequest withTier(Tier tier) {
		return new TraceRequest(this.offsetNanos, this.tenant, tier, this.model, this.promptTokens, this.outputTokens);
	}

	/**
	 * The same request at another time.
	 * @param offsetNanos the new arrival offset
	 * @return the request
	 */
	public TraceRequest at(long offsetNanos) {
		return new TraceRequest(offsetNanos, this.tenant, this.tier, this.model, this.promptTokens, this.outputTokens);
	}

}
