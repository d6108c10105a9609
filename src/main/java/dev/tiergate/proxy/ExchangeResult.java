package dev.tiergate.proxy;

/**
 * What one attempt of an {@link UpstreamExchange} came to.
 *
 * @param outcome how it ended
 * @param status the upstream's HTTP status, or {@code 0} when no answer arrived
 */
public record ExchangeResult(ExchangeOutcome outcome, int status) {
}
