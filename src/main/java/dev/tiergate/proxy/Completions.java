package dev.tiergate.proxy;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import org.slf4j.MDC;
import org.springframework.stereotype.Component;

import dev.tiergate.dispatch.Admission;
import dev.tiergate.dispatch.DispatchRuntime;
import dev.tiergate.quota.QuotaPermit;
import dev.tiergate.quota.QuotaService;
import dev.tiergate.quota.Tenant;
import dev.tiergate.replica.RequestIds;
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
 * and let the {@link UpstreamExchange} forward the request and pass the answer back. A
 * plain servlet calls it ({@code web.CompletionsServlet}), not Spring MVC: the front door
 * is the hot path, and MVC's handler lookup, argument resolution and reflective call were
 * 8% of its CPU samples (docs/benchmarks.md). Failures are thrown as
 * {@link OpenAiException} (or any other exception), and the servlet answers them in
 * OpenAI's error shape as the {@code /v1} API's other endpoints are answered. An
 * embeddings request must carry an {@code input}, is never streamed and reserves no
 * completion tokens. A request whose slot is taken away before it has sent anything waits
 * for another one, transparently; one whose endpoint fails before anything reached the
 * client is retried once on another endpoint.
 */
@Component
public class Completions {

	private final DispatchRuntime dispatcher;

	private final EndpointRegistry registry;

	private final Attempts attempts;

	private final ProxyProperties properties;

	private final JsonMapper json;

	private final ProxyMetrics metrics;

	private final QuotaService quota;

	private final BalancingPolicies policies;

	private final ClientProbes probes;

	private final Clock clock;

	private final Spillover spillover;

	private final OpenRequests open;

	Completions(DispatchRuntime dispatcher, EndpointRegistry registry, UpstreamExchange exchange,
			ProxyProperties properties, JsonMapper json, MeterRegistry meters, QuotaService quota,
			BalancingPolicies policies, ClientProbes probes, Clock clock, Spillover spillover, HostedSpill hosted,
			OpenRequests open) {
		this.spillover = spillover;
		this.open = open;
		this.dispatcher = dispatcher;
		this.registry = registry;
		this.properties = properties;
		this.json = json;
		this.metrics = new ProxyMetrics(meters);
		this.attempts = new Attempts(exchange, hosted, this.metrics);
		this.quota = quota;
		this.policies = policies;
		this.probes = probes;
		this.clock = clock;
	}

	static final String EMBEDDINGS = "/v1/embeddings";

	/** The paths served here, all {@code POST}. */
	public static final List<String> PATHS = List.of("/v1/chat/completions", "/v1/completions", EMBEDDINGS);

	/** The status logged for a request whose client left before its answer (nginx's). */
	static final int CLIENT_CLOSED_REQUEST = 499;

	/**
	 * Serves one request. A stream, once its quota is admitted, is served on a thread of
	 * its own ({@link DetachedStream}, unless {@code tiergate.proxy.detach-streams} is
	 * off) and this returns at once; what fails there is answered through {@code failed}.
	 * @param request the request, on one of {@link #PATHS}
	 * @param response its response
	 * @param tenant the tenant its key authenticated
	 * @param failed answers a failure of a detached stream before its answer began, as
	 * the caller answers what this throws
	 * @throws IOException when the client's connection fails
	 * @throws InterruptedException when the serving thread is interrupted
	 */
	public void complete(HttpServletRequest request, HttpServletResponse response, Tenant tenant, Failed failed)
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
		// Each open request holds its connection's buffers until it ends: a full replica
		// refuses more at once rather than run out of heap (OpenRequests).
		if (!this.open.tryOpen(tier)) {
			this.metrics.count(model, tier, "replica_full");
			throw this.open.refusal(tier);
		}
		boolean detached = false;
		try {
			long promptTokens = TokenEstimates.promptTokens(body);
			long maxTokens = embeddings ? 0 : TokenEstimates.maxTokens(body, this.properties.defaultMaxTokens(),
					this.properties.contextLength(model, this.registry.maxModelLen(model)));
			// The quota is checked before queueing (429/503 on refusal); QuotaPermits
			// settles it when the response ends.
			QuotaPermit permit = this.quota.admit(tenant, tier, model, promptTokens, maxTokens);
			QuotaPermits.attach(request, response, permit);
			// The engine's priority follows the tier (UpstreamExchange adds it where the
			// engine takes it); a caller may not set it.
			rewritten |= body.remove("priority") != null;
			// The caller's bytes go upstream unchanged unless the gateway changed a
			// field.
			ExchangeRequest upstream = new ExchangeRequest(request.getRequestURI(),
					rewritten ? this.json.writeValueAsBytes(body) : raw, stream, RequestIds.next(), tier);
			long affinityKey = this.policies.usesAffinity(model)
					? this.policies.affinityKey(request.getHeader(this.policies.affinityHeader()),
							RequestBodies.promptPrefix(body, this.policies.prefixLength()))
					: 0;
			// From here the client's connection is probed: one that leaves while queued
			// gives up its place, one that leaves while its answer is computed aborts the
			// upstream call.
			ClientConnection client = ClientConnection.watch(request);
			try {
				Call call = new Call(request, response, tenant, model, tier, upstream, promptTokens, maxTokens,
						affinityKey, client, started, arrived);
				if (stream && this.properties.detachStreams() && client.async()) {
					DetachedStream.start(request, client, () -> serve(call), failed, this.open::close);
					detached = true;
					return;
				}
				serve(call);
			}
			finally {
				if (!detached) {
					client.complete();
				}
			}
		}
		finally {
			if (!detached) {
				this.open.close();
			}
		}
	}

	/**
	 * Waits for a slot, calls the endpoint (or the hosted API) and passes the answer on,
	 * then counts and times it and hands its record to the quota settlement.
	 */
	private void serve(Call call) throws IOException, InterruptedException {
		HttpServletRequest request = call.request();
		HttpServletResponse response = call.response();
		Tenant tenant = call.tenant();
		String model = call.model();
		Tier tier = call.tier();
		ExchangeRequest upstream = call.upstream();
		long promptTokens = call.promptTokens();
		long maxTokens = call.maxTokens();
		long started = call.started();
		ClientConnection client = call.client();
		MDC.put("requestId", upstream.requestId());
		Optional<Spillover.Plan> spill = this.spillover.plan(model, tier, tenant.id(), promptTokens, maxTokens);
		try (Admission admission = this.dispatcher.admit(model, tier, tenant.id(), tenant.weight(),
				Math.addExact(promptTokens, maxTokens), call.affinityKey());
				ClientProbes.Probe probe = this.probes.watch(client, admission::abandon)) {
			Attempts.Served served = this.attempts.run(admission, upstream, model,
					new ServletAnswerSink(response, client::answering), spill.orElse(null));
			ExchangeResult result = served.result();
			if (result.outcome() == ExchangeOutcome.CLIENT_GONE && !response.isCommitted()) {
				// Nobody reads it; for the access log (nginx's "client closed request").
				response.setStatus(CLIENT_CLOSED_REQUEST);
			}
			if (result.outcome() == ExchangeOutcome.DONE && result.firstByteAt() != 0) {
				this.metrics.firstByte(model, tier, Duration.ofNanos(result.firstByteAt() - started));
			}
			this.metrics.count(model, tier, result.outcome());
			long ended = System.nanoTime();
			this.metrics.duration(model, tier, upstream.stream(), Duration.ofNanos(ended - started));
			if (result.outcome() == ExchangeOutcome.DONE) {
				// QuotaPermits, which settles the quota, completes the record with the
				// real usage and the status and appends it to the request log.
				long firstByte = (result.firstByteAt() != 0) ? result.firstByteAt() : ended;
				QuotaPermits.attachRecord(request,
						new RequestRecord(call.arrived(), tenant.id(), tier, model, api(request.getRequestURI()),
								upstream.stream(), result.status(), promptTokens, 0, served.queuedNanos() / 1e6,
								(firstByte - started) / 1e6, (ended - started) / 1e6,
								RequestRecord.HOSTED.equals(response.getHeader(HostedSpill.SERVED_BY))
										? RequestRecord.HOSTED : RequestRecord.FLEET));
			}
		}
		finally {
			MDC.remove("endpoint");
			MDC.remove("requestId");
		}
	}

	/** A request accepted, with what serving it needs. */
	private record Call(HttpServletRequest request, HttpServletResponse response, Tenant tenant, String model,
			Tier tier, ExchangeRequest upstream, long promptTokens, long maxTokens, long affinityKey,
			ClientConnection client, long started, Instant arrived) {
	}

	/** Answers a failure of a request served on a thread of its own. */
	@FunctionalInterface
	public interface Failed {

		/**
		 * Answers a failure, in OpenAI's error shape when nothing of the answer has been
		 * sent.
		 * @param failure what was thrown
		 * @throws IOException when the client's connection fails
		 */
		void answer(Exception failure) throws IOException;

	}

	private static String api(String path) {
		return switch (path) {
			case "/v1/chat/completions" -> "chat.completions";
			case EMBEDDINGS -> "embeddings";
			default -> "completions";
		};
	}

}
