package dev.tiergate.proxy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;

import dev.tiergate.dispatch.DispatchOutcome;
import dev.tiergate.dispatch.Dispatcher;
import dev.tiergate.dispatch.Tier;
import dev.tiergate.quota.Tenant;
import dev.tiergate.routing.EndpointLease;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code POST /v1/chat/completions} and {@code POST /v1/completions}: authenticate (done by the security filter),
 * validate, pick the tier, take a slot, forward, and pass the answer back (server-sent events chunk by chunk).
 */
@RestController
class CompletionsApiController {

	private static final Logger logger = LoggerFactory.getLogger(CompletionsApiController.class);

	private static final byte[] UPSTREAM_FAILED_EVENT = ("data: {\"error\":{\"message\":\"The inference endpoint failed "
			+ "while streaming.\",\"type\":\"server_error\",\"param\":null,\"code\":\"upstream_error\"}}\n\n"
			+ "data: [DONE]\n\n")
		.getBytes(StandardCharsets.UTF_8);

	private final Dispatcher dispatcher;

	private final UpstreamClient upstream;

	private final ProxyProperties properties;

	private final JsonMapper json;

	private final MeterRegistry meters;

	CompletionsApiController(Dispatcher dispatcher, UpstreamClient upstream, ProxyProperties properties,
			JsonMapper json, MeterRegistry meters) {
		this.dispatcher = dispatcher;
		this.upstream = upstream;
		this.properties = properties;
		this.json = json;
		this.meters = meters;
	}

	@PostMapping({ "/v1/chat/completions", "/v1/completions" })
	void complete(HttpServletRequest request, HttpServletResponse response, @AuthenticationPrincipal Tenant tenant)
			throws IOException, InterruptedException {
		long started = System.nanoTime();
		ObjectNode body = parse(RequestBodies.read(request, this.properties.maxRequestSize().toBytes()));
		String model = requireModel(body);
		boolean stream = requireStreamFlag(body);
		Tier tier = TierSelection.select(request.getHeader(TierSelection.HEADER), body.get("service_tier"), tenant);
		body.remove("service_tier");
		if (this.properties.sendPriority()) {
			body.put("priority", tier.enginePriority());
		}
		byte[] upstreamBody = this.json.writeValueAsBytes(body);
		DispatchOutcome outcome = this.dispatcher.dispatch(model, tier);
		if (outcome instanceof DispatchOutcome.Rejected rejected) {
			count(rejected.reason() == DispatchOutcome.Reason.UNKNOWN_MODEL ? "_unknown" : model, tier,
					rejected.reason().name().toLowerCase());
			throw switch (rejected.reason()) {
				case UNKNOWN_MODEL -> new OpenAiException(404, "invalid_request_error", "model_not_found",
						rejected.message());
				case NO_CAPACITY -> new OpenAiException(503, "service_unavailable", "no_capacity", rejected.message(),
						rejected.retryAfter());
				case QUEUE_TIMEOUT -> new OpenAiException(503, "service_unavailable", "queue_timeout",
						rejected.message(), rejected.retryAfter());
			};
		}
		DispatchOutcome.Dispatched dispatched = (DispatchOutcome.Dispatched) outcome;
		String requestId = UUID.randomUUID().toString();
		try (EndpointLease lease = dispatched.lease()) {
			MDC.put("endpoint", lease.endpoint().key());
			MDC.put("requestId", requestId);
			response.setHeader("x-request-id", requestId);
			response.setHeader("x-tiergate-tier", tier.name());
			response.setHeader("x-tiergate-endpoint", lease.endpoint().key());
			response.setHeader("x-tiergate-queue-ms", Long.toString(dispatched.queued().toMillis()));
			String outcomeTag = forward(request.getRequestURI(), upstreamBody, stream, requestId, lease, response);
			count(model, tier, outcomeTag);
			Timer.builder("tiergate.proxy.duration")
				.description("Time from request arrival to the end of the response")
				.tag("model", model)
				.tag("priority", tier.name())
				.tag("stream", Boolean.toString(stream))
				.register(this.meters)
				.record(Duration.ofNanos(System.nanoTime() - started));
		}
		finally {
			MDC.remove("endpoint");
			MDC.remove("requestId");
		}
	}

	private String forward(String path, byte[] body, boolean stream, String requestId, EndpointLease lease,
			HttpServletResponse response) throws IOException, InterruptedException {
		HttpResponse<InputStream> answer;
		try {
			answer = this.upstream.post(lease.endpoint().baseUri().resolve(path), body, stream, requestId);
		}
		catch (IOException ex) {
			logger.warn("Upstream call failed before any byte: {}", ex.toString());
			throw new OpenAiException(502, "server_error", "upstream_unavailable",
					"The inference endpoint could not be reached.", Duration.ofSeconds(1));
		}
		String contentType = answer.headers().firstValue("Content-Type").orElse("application/json");
		boolean eventStream = contentType.startsWith("text/event-stream");
		try (InputStream in = answer.body()) {
			if (!eventStream) {
				byte[] all;
				try {
					all = in.readAllBytes();
				}
				catch (IOException ex) {
					throw new OpenAiException(502, "server_error", "upstream_error",
							"The inference endpoint failed before answering.", Duration.ofSeconds(1));
				}
				response.setStatus(answer.statusCode());
				response.setContentType(contentType);
				response.setContentLength(all.length);
				response.getOutputStream().write(all);
				return (answer.statusCode() < 400) ? "ok" : "upstream_" + answer.statusCode();
			}
			response.setStatus(answer.statusCode());
			response.setContentType(contentType);
			response.setHeader("Cache-Control", "no-cache");
			response.setHeader("X-Accel-Buffering", "no");
			OutputStream out = response.getOutputStream();
			try {
				response.flushBuffer();
			}
			catch (IOException ex) {
				return "client_disconnected";
			}
			byte[] buffer = new byte[8192];
			while (true) {
				int n;
				try {
					n = in.read(buffer);
				}
				catch (IOException ex) {
					logger.warn("Upstream failed mid-stream: {}", ex.toString());
					writeQuietly(out, UPSTREAM_FAILED_EVENT);
					return "upstream_failed_mid_stream";
				}
				if (n < 0) {
					return "ok";
				}
				try {
					out.write(buffer, 0, n);
					out.flush();
				}
				catch (IOException ex) {
					// The client went away: leaving the try closes the upstream body, which aborts the call.
					return "client_disconnected";
				}
			}
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
		this.meters.counter("tiergate.proxy.requests", "model", model, "priority", tier.name(), "outcome", outcome)
			.increment();
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

}
