package dev.tiergate.proxy;

/**
 * What one attempt of an {@link UpstreamExchange} came to.
 *
 * @param outcome how it ended
 * @param status the upstream's HTTP status, or {@code 0} when no answer arrived
 * @param firstByteAt when the first byte of the answer arrived ({@link System#nanoTime}),
 * or {@code 0} when none did
 */
public record ExchangeResult(ExchangeOutcome outcome, int status, long firstByteAt) {
}
