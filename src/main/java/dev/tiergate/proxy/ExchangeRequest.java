package dev.tiergate.proxy;

import dev.tiergate.tier.Tier;

/**
 * What an {@link UpstreamExchange} sends: the OpenAI path, the body as it goes upstream,
 * and what the answer is stamped with.
 *
 * @param path e.g. {@code /v1/chat/completions}
 * @param body the request body, serialized once for every attempt
 * @param stream whether the caller asked for server-sent events
 * @param requestId the id the upstream call carries ({@code X-Request-Id})
 * @param tier the tier the request is served at (OpenAI's {@code service_tier} in the
 * answer)
 */
public record ExchangeRequest(String path, byte[] body, boolean stream, String requestId, Tier tier) {
}
