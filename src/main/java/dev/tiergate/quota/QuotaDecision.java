package dev.tiergate.quota;

import java.time.Duration;

/**
 * What one limiter (Redis or local) answered for one request.
 *
 * @param admitted whether all limits passed
 * @param limit the limit that refused it, or {@code null}
 * @param retryAfter when the limit frees up enough, or {@code null}
 * @param requestsRemaining requests left in the sliding minute, or -1 when unlimited
 * @param tokensRemaining tokens left in the sliding minute, or -1 when unlimited
 * @param month the month (UTC, {@code YYYY-MM}, Redis's clock) the reservation was
 * charged to, or {@code null} (local limiter)
 */
record QuotaDecision(boolean admitted, String limit, Duration retryAfter, long requestsRemaining, long tokensRemaining,
		String month) {

	QuotaDecision(boolean admitted, String limit, Duration retryAfter, long requestsRemaining, long tokensRemaining) {
		this(admitted, limit, retryAfter, requestsRemaining, tokensRemaining, null);
	}

}
