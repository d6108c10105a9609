package dev.tiergate.proxy;

import java.io.IOException;
import java.time.Duration;
import java.util.UUID;

import org.slf4j.MDC;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;

import dev.tiergate.dispatch.Admission;
import dev.tiergate.dispatch.DispatchRuntime;
import dev.tiergate.problem.OpenAiApi;
import dev.tiergate.quota.QuotaPermit;
import dev.tiergate.quota.QuotaService;
import dev.tiergate.quota.Tenant;
import dev.tiergate.routing.BalancingPolicies;
import dev.tiergate.routing.EndpointRegistry;
import dev.tiergate.tier.Tier;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code POST /v1/chat/completions}, {@code POST /v1/completions} and
 * {@code POST /v1/embeddings}, one path for all three: authenticate (done by the security
 * filter), validate, pick the tier, check the quota, wait for a slot from the dispatcher,
 * and let the {@link UpstreamExchange} forward the request and pass the answer back. An
 * embeddings request must carry an {@code input}, is never streamed and reserves no
 * completion tokens. A request whose slot is taken away before it has sent anything waits
 * for another one, transparently; one whose endpoint fails before anything reached the
 * client is retried once on another endpoint.
 */
@RestController
@OpenAiApi
class CompletionsApiController {

	private final DispatchRuntime dispatcher;

	private final EndpointRegistry registry;

	private final UpstreamExchange exchange;

	private final ProxyProperties properties;

	private final JsonMapper json;

	private final ProxyMetrics metrics;

	private final QuotaService quota;

	private final BalancingPolicies policies;

	CompletionsApiController(DispatchRuntime dispatcher, EndpointRegistry registry, UpstreamExchange exchange,
			ProxyProperties properties, JsonMapper json, MeterRegistry meters, QuotaService quota,
			BalancingPolicies policies) {
		this.dispatcher = dispatcher;
		this.registry = registry;
		this.exchange = exchange;
		this.properties = properties;
		this.json = json;
		this.metrics = new ProxyMetrics(meters);
		this.quota = quota;
		this.policies = policies;
	}

	static final String EMBEDDINGS = "/v1/embeddings";

	@PostMapping({ "/v1/chat/completions", "/v1/completions", EMBEDDINGS })
	void complete(HttpServletRequest request, HttpServletResponse response, @AuthenticationPrincipal Tenant tenant)
			throws IOException, InterruptedException {
		long started = System.nanoTime();
		byte[] raw = RequestBodies.read(request, this.properties.maxRequestSize().toBytes());
		ObjectNode body = RequestBodies.parse(raw, this.json);
		String model = RequestBodies.model(body);
		boolean embeddings = request.getRequestURI().equals(EMBEDDINGS);
		if (embeddings) {
			RequestBodies.requireInput(body);
		}
		boolean stream = RequestBodies.stream(body);
		if (embeddings && stream) {
			throw OpenAiException.invalidRequest("invalid_stream",
					"Embeddings cannot be streamed; leave 'stream' out.");
		}
		Tier tier = TierSelection.select(request.getHeader(TierSelection.HEADER), body.get("service_tier"), tenant);
		boolean rewritten = body.remove("service_tier") != null;
		// A model whose endpoints are all gone is known to the dispatcher and gets 503
		// no_capacity, not 404.
		if (this.registry.pool(model).isEmpty() && !this.dispatcher.knows(model)) {
			this.metrics.count("_unknown", tier, "unknown_model");
			throw new OpenAiException(404, "invalid_request_error", "model_not_found",
					"The model '" + model + "' does not exist");
		}
		long promptTokens = TokenEstimates.promptTokens(body);
		long maxTokens = embeddings ? 0 : TokenEstimates.maxTokens(body, this.properties.defaultMaxTokens(),
				this.properties.contextLength(model, this.registry.maxModelLen(model)));
		// The quota is checked before queueing (429/503 on refusal); QuotaPermits settles
		// it when the response ends.
		QuotaPermit permit = this.quota.admit(tenant, tier, model, promptTokens, maxTokens);
		QuotaPermits.attach(request, response, permit);
		// The engine's priority follows the tier (UpstreamExchange adds it where the
		// engine takes it); a caller may not set it.
		rewritten |= body.remove("priority") != null;
		// The caller's bytes go upstream unchanged unless the gateway changed a field.
		ExchangeRequest upstream = new ExchangeRequest(request.getRequestURI(),
				rewritten ? this.json.writeValueAsBytes(body) : raw, stream, UUID.randomUUID().toString(), tier);
		MDC.put("requestId", upstream.requestId());
		long affinityKey = this.policies.usesAffinity(model)
				? this.policies.affinityKey(request.getHeader(this.policies.affinityHeader()),
						RequestBodies.promptPrefix(body, this.policies.prefixLength()))
				: 0;
		try (Admission admission = this.dispatcher.admit(model, tier, tenant.id(), tenant.weight(),
				Math.addExact(promptTokens, maxTokens), affinityKey)) {
			ExchangeResult result = run(admission, upstream, model, response);
			if (result.outcome() == ExchangeOutcome.DONE && result.firstByteAt() != 0) {
				this.metrics.firstByte(model, tier, Duration.ofNanos(result.firstByteAt() - started));
			}
			this.metrics.count(model, tier, result.outcome().name().toLowerCase());
			this.metrics.duration(model, tier, stream, Duration.ofNanos(System.nanoTime() - started));
		}
		finally {
			MDC.remove("endpoint");
			MDC.remove("requestId");
		}
	}

	/**
	 * The retry loop: waits for a slot, forwards, and goes again while the attempt asks
	 * for it (requeued after a preemption, or retried elsewhere once).
	 */
	private ExchangeResult run(Admission admission, ExchangeRequest upstream, String model,
			HttpServletResponse response) throws InterruptedException {
		ServletAnswerSink sink = new ServletAnswerSink(response);
		long queuedMillis = 0;
		boolean retried = false;
		while (true) {
			Admission.Running running;
			try {
				running = admission.awaitSlot();
			}
			catch (Admission.Rejected rejected) {
				this.metrics.count(model, upstream.tier(), rejected.reason().code());
				throw rejection(rejected, model, upstream.tier());
			}
			queuedMillis += running.queued().toMillis();
			MDC.put("endpoint", running.endpoint().key());
			response.setHeader("x-request-id", upstream.requestId());
			response.setHeader("x-tiergate-tier", upstream.tier().name());
			response.setHeader("x-tiergate-endpoint", running.endpoint().key());
			response.setHeader("x-tiergate-queue-ms", Long.toString(queuedMillis));
			ExchangeResult result = this.exchange.forward(upstream, running, sink, !retried);
			ExchangeOutcome outcome = result.outcome();
			if (!outcome.again()) {
				return result;
			}
			this.metrics.count(model, upstream.tier(), (outcome == ExchangeOutcome.RETRY) ? "retried" : "requeued");
			if (outcome == ExchangeOutcome.RETRY) {
				retried = true;
				admission.retryElsewhere();
			}
		}
	}

	private static OpenAiException rejection(Admission.Rejected rejected, String model, Tier tier) {
		Duration retryAfter = rejected.retryAfter();
		return switch (rejected.reason()) {
			case NO_CAPACITY -> new OpenAiException(503, "service_unavailable", "no_capacity",
					"No endpoint of model '" + model + "' is ready to take requests.", retryAfter);
			case QUEUE_TIMEOUT -> new OpenAiException(503, "service_unavailable", "queue_timeout",
					"The request waited longer than tier " + tier + " allows for a free slot.", retryAfter);
			case OVERLOADED -> new OpenAiException(429, "overloaded", "overloaded",
					"Model '" + model + "' is overloaded; tier " + tier + " requests are being shed.", retryAfter);
		};
	}

}
