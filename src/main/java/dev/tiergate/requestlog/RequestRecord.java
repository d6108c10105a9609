package dev.tiergate.requestlog;

import java.time.Instant;
import java.util.Objects;

import dev.tiergate.tier.Tier;

/**
 * One completed request as the request log keeps it.
 *
 * @param time when the request arrived
 * @param tenant the tenant that sent it
 * @param tier the tier it was served at
 * @param model the model asked for
 * @param api which API: {@code chat.completions}, {@code completions},
 * {@code embeddings}, or {@code batch} for a batch item
 * @param stream whether the answer was streamed
 * @param status the HTTP status of the answer
 * @param promptTokens prompt tokens (the engine's {@code usage}, else Tiergate's
 * estimate)
 * @param completionTokens completion tokens (the engine's {@code usage}; else, for a
 * stream, the events that carried text; else 0)
 * @param queueMs time spent waiting for a slot, in milliseconds
 * @param ttftMs time from arrival to the answer's first byte, in milliseconds
 * @param durationMs time from arrival to the end of the answer, in milliseconds
 * @param servedBy where it was served: {@link #FLEET} or {@link #HOSTED} (a hosted
 * upstream it spilled to)
 */
public record RequestRecord(Instant time, String tenant, Tier tier, String model, String api, boolean stream,
		int status, long promptTokens, long completionTokens, double queueMs, double ttftMs, double durationMs,
		String servedBy) {

	/** Served by the fleet. */
	public static final String FLEET = "fleet";

	/** Served by a hosted upstream (spilled). */
	public static final String HOSTED = "hosted";

	/**
	 * Checks the record.
	 */
	public RequestRecord {
		Objects.requireNonNull(time, "time");
		Objects.requireNonNull(tenant, "tenant");
		Objects.requireNonNull(tier, "tier");
		Objects.requireNonNull(model, "model");
		Objects.requireNonNull(api, "api");
		if (!FLEET.equals(servedBy) && !HOSTED.equals(servedBy)) {
			throw new IllegalArgumentException("servedBy must be fleet or hosted, was " + servedBy);
		}
	}

	/**
	 * The same record with the answer's final status and usage.
	 * @param status the HTTP status
	 * @param promptTokens prompt tokens
	 * @param completionTokens completion tokens
	 * @return the record
	 */
	public RequestRecord completed(int status, long promptTokens, long completionTokens) {
		return new RequestRecord(this.time, this.tenant, this.tier, this.model, this.api, this.stream, status,
				promptTokens, completionTokens, this.queueMs, this.ttftMs, this.durationMs, this.servedBy);
	}

}
