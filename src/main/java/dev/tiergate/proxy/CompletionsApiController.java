package dev.tiergate.proxy;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;

import java.util.Optional;

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
import dev.tiergate.requestlog.RequestRecord;
import dev.tiergate.routing.BalancingPolicies;
import dev.tiergate.routing.EndpointRegistry;
import dev.tiergate.spill.Spillover;
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

	private final ClientProbes probes;

	private final Clock clock;

	private final Spillover spillover;

	private final HostedSpill hosted;

	CompletionsApiController(DispatchRuntime dispatcher, EndpointRegistry registry, UpstreamExchange exchange,
			ProxyProperties properties, JsonMapper json, MeterRegistry meters, QuotaService quota,
			BalancingPolicies policies, ClientProbes probes, Clock clock, Spillover spillover, HostedSpill hosted) {
		this.spillover = spillover;
		this.hosted = hosted;
		this.dispatcher = dispatcher;
		this.registry = registry;
		this.exchange = exchange;
		this.properties = properties;
		this.json = json;
		this.metrics = new ProxyMetrics(meters);
		this.quota = quota;
		this.policies = policies;
		this.probes = probes;
		this.clock = clock;
	}

	static final String EMBEDDINGS = "/v1/embeddings";

	/** The status logged for a request whose client left before its answer (nginx's). */
	static final int CLIENT_CLOSED_REQUEST = 499;

	@PostMapping({ "/v1/chat/completions", "/v1/completions", EMBEDDINGS })
	void complete(HttpServletRequest request, HttpServletResponse response, @AuthenticationPrincipal Tenant tenant)
			throws IOException, InterruptedException {
		long started = System.nanoTime();
		Instant arrived = this.clock.instant();
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
		// From here the client's connection is probed: one that leaves while queued gives
		// up its place, one that leaves while its answer is computed aborts the upstream
		// call.
		ClientConnection client = ClientConnection.watch(request);
		Optional<Spillover.Plan> spill = this.spillover.plan(model, tier, tenant.id(), promptTokens, maxTokens);
		try (Admission admission = this.dispatcher.admit(model, tier, tenant.id(), tenant.weight(),
				Math.addExact(promptTokens, maxTokens), affinityKey);
				ClientProbes.Probe probe = this.probes.watch(client, admission::abandon)) {
			long[] queuedNanos = new long[1];
			ExchangeResult result = run(admission, upstream, model, response, client, queuedNanos, spill.orElse(null));
			if (result.outcome() == ExchangeOutcome.CLIENT_GONE && !response.isCommitted()) {
				// Nobody reads it; for the access log (nginx's "client closed request").
				response.setStatus(CLIENT_CLOSED_REQUEST);
			}
			if (result.outcome() == ExchangeOutcome.DONE && result.firstByteAt() != 0) {
				this.metrics.firstByte(model, tier, Duration.ofNanos(result.firstByteAt() - started));
			}
			this.metrics.count(model, tier, result.outcome().name().toLowerCase());
			long ended = System.nanoTime();
			this.metrics.duration(model, tier, stream, Duration.ofNanos(ended - started));
			if (result.outcome() == ExchangeOutcome.DONE) {
				// QuotaPermits, which settles the quota, completes the record with the
				// real usage and the status and appends it to the request log.
				long firstByte = (result.firstByteAt() != 0) ? result.firstByteAt() : ended;
				QuotaPermits.attachRecord(request,
						new RequestRecord(arrived, tenant.id(), tier, model, api(request.getRequestURI()), stream,
								result.status(), promptTokens, 0, queuedNanos[0] / 1e6, (firstByte - started) / 1e6,
								(ended - started) / 1e6,
								RequestRecord.HOSTED.equals(response.getHeader(HostedSpill.SERVED_BY))
										? RequestRecord.HOSTED : RequestRecord.FLEET));
			}
		}
		finally {
			MDC.remove("endpoint");
			MDC.remove("requestId");
			client.complete();
		}
	}

	/**
	 * The retry loop: waits for a slot, forwards, and goes again while the attempt asks
	 * for it (requeued after a preemption, or retried elsewhere once).
	 */
	private ExchangeResult run(Admission admission, ExchangeRequest upstream, String model,
			HttpServletResponse response, ClientConnection client, long[] queuedNanos, Spillover.Plan spill)
			throws InterruptedException {
		ServletAnswerSink sink = new ServletAnswerSink(response, client::answering);
		long queuedMillis = 0;
		boolean retried = false;
		Spillover.Plan spillable = spill;
		while (true) {
			Admission.Running running;
			try {
				// Spill only from the first wait: a request that has run on the fleet
				// stays.
				running = (spillable != null) ? admission.awaitSlot(spillable.spillAfter()) : admission.awaitSlot();
				if (running == null) {
					response.setHeader("x-request-id", upstream.requestId());
					response.setHeader("x-tiergate-tier", upstream.tier().name());
					ExchangeResult hosted = this.hosted.forward(spillable, admission, upstream, sink,
							response::setHeader);
					if (hosted != null) {
						return hosted;
					}
					// A cap was reached (still queued) or the hosted upstream failed
					// before answering (back in the queue, with the deadline it had).
					admission.rejoin();
					spillable = null;
					continue;
				}
			}
			catch (Admission.Rejected rejected) {
				// Turned away by the fleet (no capacity, queue timeout, shed) before it
				// could spill: the hosted upstream is the last chance; when it fails too,
				// the fleet's answer stands.
				ExchangeResult hosted = (spillable != null)
						? this.hosted.forward(spillable, admission, upstream, sink, response::setHeader) : null;
				if (hosted != null) {
					return hosted;
				}
				this.metrics.count(model, upstream.tier(), rejected.reason().code());
				throw rejection(rejected, model, upstream.tier());
			}
			catch (Admission.Abandoned gone) {
				return new ExchangeResult(ExchangeOutcome.CLIENT_GONE, 0, 0);
			}
			queuedMillis += running.queued().toMillis();
			queuedNanos[0] += running.queued().toNanos();
			MDC.put("endpoint", running.endpoint().key());
			response.setHeader("x-request-id", upstream.requestId());
			response.setHeader("x-tiergate-tier", upstream.tier().name());
			response.setHeader("x-tiergate-endpoint", running.endpoint().key());
			response.setHeader(HostedSpill.SERVED_BY, "fleet");
			spillable = null;
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

	private static String api(String path) {
		return switch (path) {
			case "/v1/chat/completions" -> "chat.completions";
			case EMBEDDINGS -> "embeddings";
			default -> "completions";
		};
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
			case SHUTTING_DOWN -> new OpenAiException(503, "service_unavailable", "shutting_down",
					"This Tiergate replica is shutting down; retry, another replica takes the request.",
					(retryAfter != null) ? retryAfter : Duration.ofSeconds(1));
		};
	}

}
