package dev.tiergate.quota;

/**
 * A tenant's live quota counters, read from Redis.
 *
 * @param requestsLastMinute requests admitted in the sliding minute
 * @param tokensLastMinute tokens charged in the sliding minute (reservations of running
 * requests included)
 * @param inFlight requests holding a concurrency lease
 * @param monthTokens tokens charged this month (UTC)
 */
public record QuotaStatus(long requestsLastMinute, long tokensLastMinute, long inFlight, long monthTokens) {
}
