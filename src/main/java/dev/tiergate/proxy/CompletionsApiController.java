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
 * {@code POST /v1/chat/completions} and {@code POST /v1/completions}: authenticate (done
 * by the security filter), validate, pick the tier, check the quota, wait for a slot from
 * the dispatcher, and let the {@link UpstreamExchange} forward the request and pass the
 * answer back. A request whose slot is taken away before it has sent anything waits for
 * another one, transparently; one whose endpoint fails before anything reached the client
 * is retried once on another endpoint.
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

	@PostMapping({ "/v1/chat/completions", "/v1/completions" })
	void complete(HttpServletRequest request, HttpServletResponse response, @AuthenticationPrincipal Tenant tenant)
			throws IOException, InterruptedException {
		long started = System.nanoTime();
		ObjectNode body = RequestBodies.parse(RequestBodies.read(request, this.properties.maxRequestSize().toBytes()),
				this.json);
		String model = RequestBodies.model(body);
		boolean stream = RequestBodies.stream(body);
		Tier tier = TierSelection.select(request.getHeader(TierSelection.HEADER), body.get("service_tier"), tenant);
		body.remove("service_tier");
		// A model whose endpoints are all gone is known to the dispatcher and gets 503
		// no_capacity, not 404.
		if (this.registry.pool(model).isEmpty() && !this.dispatcher.knows(model)) {
			this.metrics.count("_unknown", tier, "unknown_model");
			throw new OpenAiException(404, "invalid_request_error", "model_not_found",
					"The model '" + model + "' does not exist");
		}
		long promptTokens = TokenEstimates.promptTokens(body);
		long maxTokens = TokenEstimates.maxTokens(body, this.properties.defaultMaxTokens());
		// The quota is checked before queueing (429/503 on refusal); QuotaPermits settles
		// it when the response ends.
		QuotaPermit permit = this.quota.admit(tenant, tier, model, promptTokens, maxTokens);
		QuotaPermits.attach(request, response, permit);
		if (this.properties.sendsPriority(model)) {
			body.put("priority", tier.enginePriority());
		}
		ExchangeRequest upstream = new ExchangeRequest(request.getRequestURI(), this.json.writeValueAsBytes(body),
				stream, UUID.randomUUID().toString(), tier);
		MDC.put("requestId", upstream.requestId());
		long affinityKey = this.policies.usesAffinity(model)
				? this.policies.affinityKey(request.getHeader(this.policies.affinityHeader()),
						RequestBodies.promptPrefix(body, this.policies.prefixLength()))
				: 0;
		try (Admission admission = this.dispatcher.admit(model, tier, tenant.id(), tenant.weight(),
				promptTokens + maxTokens, affinityKey)) {
<<<<<<< HEAD
			ExchangeOutcome outcome = run(admission, upstream, model, response);
			this.metrics.count(model, tier, outcome.name().toLowerCase());
			this.metrics.duration(model, tier, stream, Duration.ofNanos(System.nanoTime() - started));
=======
			long queuedMillis = 0;
			boolean retried = false;
			long[] firstByteAt = { 0 };
			while (true) {
				Admission.Running running;
				try {
					running = admission.awaitSlot();
				}
				catch (Admission.Rejected rejected) {
					count(model, tier, rejected.reason().code());
					throw rejection(rejected, model, tier);
				}
				queuedMillis += running.queued().toMillis();
				Endpoint endpoint = (Endpoint) running.endpoint();
				MDC.put("endpoint", endpoint.key());
				response.setHeader("x-request-id", requestId);
				response.setHeader("x-tiergate-tier", tier.name());
				response.setHeader("x-tiergate-endpoint", endpoint.key());
				response.setHeader("x-tiergate-queue-ms", Long.toString(queuedMillis));
				Attempt attempt = forward(request.getRequestURI(), upstreamBody, stream, requestId, running, tier,
						response, !retried, firstByteAt);
				if (attempt == Attempt.REQUEUED) {
					count(model, tier, "requeued");
					continue;
				}
				if (attempt == Attempt.RETRY) {
					count(model, tier, "retried");
					retried = true;
					admission.retryElsewhere();
					continue;
				}
				count(model, tier, attempt.name().toLowerCase());
				if (attempt == Attempt.DONE && firstByteAt[0] != 0) {
					this.metrics.firstByte(model, tier, Duration.ofNanos(firstByteAt[0] - started));
				}
				this.metrics.duration(model, tier, stream, Duration.ofNanos(System.nanoTime() - started));
				return;
			}
>>>>>>> ops
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
	private ExchangeOutcome run(Admission admission, ExchangeRequest upstream, String model,
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
			ExchangeOutcome outcome = this.exchange.forward(upstream, running, sink, !retried).outcome();
			if (!outcome.again()) {
				return outcome;
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

<<<<<<< HEAD
=======
	private Attempt forward(String path, byte[] body, boolean stream, String requestId, Admission.Running running,
			Tier tier, HttpServletResponse response, boolean mayRetry, long[] firstByteAt)
			throws IOException, InterruptedException {
		Endpoint endpoint = (Endpoint) running.endpoint();
		long sentAt = System.nanoTime();
		CompletableFuture<HttpResponse<InputStream>> call = this.upstream.post(endpoint.baseUri().resolve(path), body,
				stream, requestId);
		AtomicReference<InputStream> bodyStream = new AtomicReference<>();
		running.onPreempt(() -> {
			call.cancel(true);
			InputStream in = bodyStream.get();
			if (in != null) {
				closeQuietly(in);
			}
		});
		HttpResponse<InputStream> answer;
		try {
			answer = call.get();
		}
		catch (ExecutionException | CancellationException ex) {
			if (running.preempted()) {
				this.health.record(endpoint, EndpointHealth.Outcome.PREEMPTED, "preempted");
				return Attempt.REQUEUED;
			}
			String cause = (ex.getCause() != null) ? ex.getCause().toString() : ex.toString();
			this.health.record(endpoint, EndpointHealth.Outcome.CONNECT_ERROR, cause);
			if (mayRetry) {
				logger.info("Upstream call failed before any byte, retrying elsewhere: {}", cause);
				return Attempt.RETRY;
			}
			logger.warn("Upstream call failed before any byte: {}", cause);
			throw new OpenAiException(502, "server_error", "upstream_unavailable",
					"The inference endpoint could not be reached.", Duration.ofSeconds(1));
		}
		bodyStream.set(answer.body());
		firstByteAt[0] = System.nanoTime();
		if (running.preempted()) {
			closeQuietly(answer.body());
			this.health.record(endpoint, EndpointHealth.Outcome.PREEMPTED, "preempted");
			return Attempt.REQUEUED;
		}
		if (answer.statusCode() >= 500) {
			this.health.record(endpoint, EndpointHealth.Outcome.SERVER_ERROR, "HTTP " + answer.statusCode());
			if (mayRetry) {
				closeQuietly(answer.body());
				return Attempt.RETRY;
			}
		}
		String contentType = answer.headers().firstValue("Content-Type").orElse("application/json");
		Attempt attempt;
		try (InputStream in = answer.body()) {
			if (!contentType.startsWith("text/event-stream")) {
				attempt = answerWhole(in, answer.statusCode(), contentType, running, tier, response, endpoint, mayRetry,
						firstByteAt);
			}
			else {
				attempt = answerStream(in, answer.statusCode(), contentType, running, tier, response, endpoint,
						mayRetry, firstByteAt);
			}
		}
		switch (attempt) {
			case DONE -> {
				if (answer.statusCode() < 500) {
					this.health.record(endpoint, EndpointHealth.Outcome.SUCCESS, "");
				}
				this.health.recordLatency(endpoint.model(), Duration.ofNanos(firstByteAt[0] - sentAt),
						Duration.ofNanos(System.nanoTime() - sentAt));
			}
			case CLIENT_GONE -> this.health.record(endpoint, EndpointHealth.Outcome.CLIENT_GONE, "client gone");
			case PREEMPTED, REQUEUED -> this.health.record(endpoint, EndpointHealth.Outcome.PREEMPTED, "preempted");
			default -> {
				// failures were recorded where they happened
			}
		}
		return attempt;
	}

	private Attempt answerWhole(InputStream in, int status, String contentType, Admission.Running running, Tier tier,
			HttpServletResponse response, Endpoint endpoint, boolean mayRetry, long[] firstByteAt) throws IOException {
		byte[] all;
		try {
			all = in.readAllBytes();
		}
		catch (IOException ex) {
			if (running.preempted()) {
				return Attempt.REQUEUED;
			}
			this.health.record(endpoint, EndpointHealth.Outcome.CONNECT_ERROR, "answer broke: " + ex);
			if (mayRetry) {
				return Attempt.RETRY;
			}
			throw new OpenAiException(502, "server_error", "upstream_error",
					"The inference endpoint failed before answering.", Duration.ofSeconds(1));
		}
		if (!this.dispatcher.markSent(running)) {
			return Attempt.REQUEUED;
		}
		if (status < 300) {
			all = withServiceTier(all, tier);
		}
		response.setStatus(status);
		response.setContentType(contentType);
		response.setContentLength(all.length);
		try {
			response.getOutputStream().write(all);
			response.flushBuffer();
		}
		catch (IOException ex) {
			return Attempt.CLIENT_GONE;
		}
		return Attempt.DONE;
	}

	private Attempt answerStream(InputStream in, int status, String contentType, Admission.Running running, Tier tier,
			HttpServletResponse response, Endpoint endpoint, boolean mayRetry, long[] firstByteAt) throws IOException {
		byte[] buffer = new byte[8192];
		int n;
		try {
			n = in.read(buffer);
			firstByteAt[0] = System.nanoTime();
		}
		catch (IOException ex) {
			if (running.preempted()) {
				return Attempt.REQUEUED;
			}
			this.health.record(endpoint, EndpointHealth.Outcome.CONNECT_ERROR,
					"stream broke before its first byte: " + ex);
			if (mayRetry) {
				return Attempt.RETRY;
			}
			throw new OpenAiException(502, "server_error", "upstream_error",
					"The inference endpoint failed before answering.", Duration.ofSeconds(1));
		}
		// Nothing has reached the client yet; from here on, preemption ends the request
		// instead of requeueing it.
		if (!this.dispatcher.markSent(running)) {
			return Attempt.REQUEUED;
		}
		response.setStatus(status);
		response.setContentType(contentType);
		response.setHeader("Cache-Control", "no-cache");
		response.setHeader("X-Accel-Buffering", "no");
		OutputStream out = response.getOutputStream();
		ServiceTierStamp stamp = (status < 300) ? new ServiceTierStamp(tier) : null;
		while (n >= 0) {
			try {
				if (stamp != null) {
					stamp.write(buffer, n, out);
				}
				else {
					out.write(buffer, 0, n);
				}
				out.flush();
			}
			catch (IOException ex) {
				// The client went away: leaving the try-with-resources closes the
				// upstream body, aborting the call.
				return Attempt.CLIENT_GONE;
			}
			try {
				n = in.read(buffer);
			}
			catch (IOException ex) {
				if (running.preempted()) {
					writeQuietly(out, PREEMPTED_EVENT);
					return Attempt.PREEMPTED;
				}
				logger.warn("Upstream failed mid-stream: {}", ex.toString());
				this.health.record(endpoint, EndpointHealth.Outcome.BROKEN_STREAM, ex.toString());
				writeQuietly(out, UPSTREAM_FAILED_EVENT);
				return Attempt.FAILED_MID_STREAM;
			}
		}
		if (stamp != null) {
			try {
				stamp.finish(out);
				out.flush();
			}
			catch (IOException ex) {
				return Attempt.CLIENT_GONE;
			}
		}
		return Attempt.DONE;
	}

	/**
	 * Sets OpenAI's {@code service_tier} in a JSON answer to the tier the request was
	 * served at.
	 */
	private byte[] withServiceTier(byte[] answer, Tier tier) {
		try {
			JsonNode node = this.json.readTree(answer);
			if (node instanceof ObjectNode object) {
				object.put("service_tier", ServiceTierStamp.serviceTier(tier));
				return this.json.writeValueAsBytes(object);
			}
		}
		catch (JacksonException ex) {
			// not JSON: pass it through unchanged
		}
		return answer;
	}

	private static void closeQuietly(InputStream in) {
		try {
			in.close();
		}
		catch (IOException ex) {
			// aborting anyway
		}
	}

	private static void writeQuietly(OutputStream out, byte[] bytes) {
		try {
			out.write(bytes);
			out.flush();
		}
		catch (IOException ex) {
			// client gone as well
		}
	}

	private void count(String model, Tier tier, String outcome) {
		this.metrics.count(model, tier, outcome);
	}

	private ObjectNode parse(byte[] bytes) {
		JsonNode node;
		try {
			node = this.json.readTree(bytes);
		}
		catch (JacksonException ex) {
			throw OpenAiException.invalidRequest("invalid_json",
					"We could not parse the JSON body of your request: " + ex.getOriginalMessage());
		}
		if (node == null || !node.isObject()) {
			throw OpenAiException.invalidRequest("invalid_json", "The request body must be a JSON object.");
		}
		return (ObjectNode) node;
	}

	private static String requireModel(ObjectNode body) {
		JsonNode model = body.get("model");
		if (model == null || model.isNull()) {
			throw OpenAiException.invalidRequest("missing_model", "You must provide a model parameter.");
		}
		if (!model.isString() || model.asString().isBlank()) {
			throw OpenAiException.invalidRequest("invalid_model", "'model' must be a non-empty string.");
		}
		return model.asString();
	}

	private static boolean requireStreamFlag(ObjectNode body) {
		JsonNode stream = body.get("stream");
		if (stream == null || stream.isNull()) {
			return false;
		}
		if (!stream.isBoolean()) {
			throw OpenAiException.invalidRequest("invalid_stream", "'stream' must be a boolean.");
		}
		return stream.booleanValue();
	}

>>>>>>> ops
}
