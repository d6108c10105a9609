package dev.tiergate.proxy;

import java.time.Duration;
import java.util.Map;
import java.util.Set;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Positive;

/**
 * The OpenAI-compatible front door.
 *
 * @param maxRequestSize largest request body accepted; larger ones get 413
 * @param upstreamConnectTimeout connect timeout to an inference endpoint
 * @param upstreamTimeout longest an upstream call may take until its response headers
 * @param upstreamIdleTimeout longest an upstream answer's body may send no byte: the
 * attempt is then aborted (a stream ends with an error event), freeing its slot and quota
 * lease
 * @param priorityModels models whose engines take vLLM's {@code priority} request field
 * (vLLM started with {@code --scheduling-policy priority}; other engines reject the
 * field), or {@code *} for all, besides those found by {@code priorityFromPods}
 * @param priorityFromPods whether requests to an endpoint whose pod starts vLLM with
 * {@code --scheduling-policy priority} (in the container's command or arguments) carry
 * the {@code priority} field (on by default)
 * @param defaultMaxTokens completion tokens assumed, for fair sharing and quotas, when a
 * request sets no limit
 * @param streamBufferSize the most bytes of a server-sent event stream read from the
 * endpoint and flushed to the client at once through the {@code jdk} client or from the
 * hosted API (default 4KB: held once per open stream); the {@code pooled} client lends
 * each read from its connection's 4 KB buffer instead
 * @param maxModelLen context length per model, in tokens, overriding the
 * {@code max_model_len} the engines report on {@code GET /v1/models}; a request's
 * {@code max_tokens} or {@code max_completion_tokens} above it gets 400
 * @param defaultMaxModelLen context length assumed for a model that has no setting and
 * whose engines have not reported one (yet)
 * @param clientProbeInterval how often an online request's connection is checked while
 * the request waits for a slot or its answer is computed; a client found gone leaves the
 * queue, or its upstream call is aborted
 * @param upstreamClient the HTTP client of the calls to inference endpoints:
 * {@code pooled} (the default: Tiergate's own HTTP/1.1 client with keep-alive connections
 * pooled per endpoint, blocking on the request's virtual thread; a quarter less CPU per
 * request than the JDK's at the maximum rate, see docs/benchmarks.md) or {@code jdk} (the
 * JDK's {@code HttpClient}, whose selector thread is woken for every call)
 * @param upstreamPoolIdleTimeout longest a pooled connection may sit idle and still be
 * reused (below the servers' keep-alive timeout: uvicorn, under vLLM, closes after 5 s)
 * @param upstreamPoolMaxIdle most idle connections kept per endpoint
 * @param observeRequests whether Spring MVC's {@code http.server.requests} observation
 * (http_server_requests, server spans) covers the OpenAI API too (off: the proxy's own
 * tiergate_proxy_* series count and time those requests; on, the completions leave the
 * filter lane that passes the observation's filter by)
 * @param maxOpenRequests the most front-door requests this replica holds open at once,
 * streams included, all tiers together; beyond it a request gets 503 {@code replica_full}
 * at once, and each tier is kept out of the shares reserved for the tiers above it
 * ({@link OpenRequests}). 0 (the default) derives it from the heap: what the heap holds
 * beyond 256 MB at 96 KB per request, at least 64 (8,192 for a 1 GB heap)
 * @param detachStreams whether a streamed request, once its quota is admitted, is served
 * on a virtual thread of its own while the servlet container's thread returns (on by
 * default): a held stream's thread then parks 26 frames deep instead of about 54, less
 * heap per held stream (docs/benchmarks.md); off, the container's thread serves it to its
 * end, as it serves every other request
 */
@Validated
@ConfigurationProperties("tiergate.proxy")
public record ProxyProperties(@DefaultValue("1MB") @NotNull DataSize maxRequestSize,
		@DefaultValue("2s") @NotNull Duration upstreamConnectTimeout,
		@DefaultValue("10m") @NotNull Duration upstreamTimeout,
		@DefaultValue("60s") @NotNull Duration upstreamIdleTimeout, @DefaultValue Set<String> priorityModels,
		@DefaultValue("256") @Positive int defaultMaxTokens, @DefaultValue("4KB") @NotNull DataSize streamBufferSize,
		@DefaultValue Map<String, @Positive Integer> maxModelLen,
		@DefaultValue("32768") @Positive int defaultMaxModelLen,
		@DefaultValue("1s") @NotNull Duration clientProbeInterval, @DefaultValue("true") boolean priorityFromPods,
		@DefaultValue("pooled") @NotNull UpstreamClientKind upstreamClient,
		@DefaultValue("4s") @NotNull Duration upstreamPoolIdleTimeout,
		@DefaultValue("256") @Positive int upstreamPoolMaxIdle, @DefaultValue("false") boolean observeRequests,
		@DefaultValue("0") @Min(0) @Max(10_000_000) int maxOpenRequests, @DefaultValue("true") boolean detachStreams) {

	public ProxyProperties {
		positive("upstream-connect-timeout", upstreamConnectTimeout);
		positive("upstream-timeout", upstreamTimeout);
		positive("upstream-idle-timeout", upstreamIdleTimeout);
		positive("client-probe-interval", clientProbeInterval);
	}

	/**
	 * Refuses at start a duration that cannot work: a zero or negative idle timeout would
	 * end every answer at the proxy sweeper's next tick, a zero or negative probe
	 * interval would probe every connection at each tick.
	 */
	private static void positive(String name, Duration value) {
		if (value != null && (value.isZero() || value.isNegative())) {
			throw new IllegalArgumentException("tiergate.proxy." + name + " must be positive (was " + value + ")");
		}
	}

	/**
	 * The most front-door requests open at once on this replica.
	 * @param maxHeap the heap's maximum size in bytes, for the default
	 * @return {@code max-open-requests}, or the default for the heap when it is 0
	 */
	public int openRequestLimit(long maxHeap) {
		return (this.maxOpenRequests > 0) ? this.maxOpenRequests : OpenRequests.defaultLimit(maxHeap);
	}

	/** The HTTP clients that can call inference endpoints. */
	public enum UpstreamClientKind {

		/** Tiergate's pooled HTTP/1.1 client. */
		POOLED,

		/** The JDK's {@code HttpClient}. */
		JDK

	}

	/**
	 * Whether requests for a model carry the {@code priority} field.
	 * @param model the model
	 * @return {@code true} when configured
	 */
	public boolean sendsPriority(String model) {
		return this.priorityModels.contains("*") || this.priorityModels.contains(model);
	}

	/**
	 * A model's context length.
	 * @param model the model
	 * @param reported the smallest {@code max_model_len} its engines reported, or 0
	 * @return the setting for the model, else the reported length, else the default
	 */
	public long contextLength(String model, int reported) {
		Integer configured = this.maxModelLen.get(model);
		if (configured != null) {
			return configured;
		}
		return (reported > 0) ? reported : this.defaultMaxModelLen;
	}

}
