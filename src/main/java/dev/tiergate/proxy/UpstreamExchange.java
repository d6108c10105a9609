package dev.tiergate.proxy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicReference;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

import dev.tiergate.dispatch.Admission;
import dev.tiergate.dispatch.DispatchRuntime;
import dev.tiergate.routing.Endpoint;
import dev.tiergate.routing.EndpointHealth;
import dev.tiergate.tier.Tier;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * One attempt of a request on the slot the dispatcher granted: forwards it to the slot's
 * endpoint and copies the answer to an {@link AnswerSink} (a whole JSON answer at once,
 * server-sent events one flush per read), stamping OpenAI's {@code service_tier}. A
 * preemption before anything reached the receiver requeues the request; after, the stream
 * ends with a {@code preempted} event. An endpoint that fails before the first byte may
 * be retried elsewhere; after, the stream ends with an {@code upstream_error} event.
 * Every outcome is reported to passive health.
 */
@Component
public class UpstreamExchange {

	private static final Logger logger = LoggerFactory.getLogger(UpstreamExchange.class);

	private static final byte[] UPSTREAM_FAILED_EVENT = event("The inference endpoint failed while streaming.",
			"server_error", "upstream_error");

	private static final byte[] PREEMPTED_EVENT = event(
			"The request was preempted by a higher-priority request after it had started streaming.", "preempted",
			"preempted");

	private final UpstreamClient upstream;

	private final DispatchRuntime dispatcher;

	private final EndpointHealth health;

	private final JsonMapper json;

	private final int bufferSize;

	private final Duration idleTimeout;

	private final Sweeper sweeper;

	private final ProxyProperties properties;

	UpstreamExchange(UpstreamClient upstream, DispatchRuntime dispatcher, EndpointHealth health, JsonMapper json,
			ProxyProperties properties, Sweeper sweeper) {
		this.upstream = upstream;
		this.dispatcher = dispatcher;
		this.health = health;
		this.json = json;
		this.bufferSize = (int) properties.streamBufferSize().toBytes();
		this.idleTimeout = properties.upstreamIdleTimeout();
		this.properties = properties;
		this.sweeper = sweeper;
	}

	private static byte[] event(String message, String type, String code) {
		return ("data: {\"error\":{\"message\":\"" + message + "\",\"type\":\"" + type + "\",\"param\":null,\"code\":\""
				+ code + "\"}}\n\ndata: [DONE]\n\n")
			.getBytes(StandardCharsets.UTF_8);
	}

	/**
	 * Sends the request on its slot and copies the answer.
	 * @param request what to send
	 * @param running the slot granted
	 * @param sink where the answer goes
	 * @param mayRetry whether a failure before the first byte may be retried elsewhere
	 * (otherwise it is answered 502)
	 * @return how the attempt ended
	 * @throws OpenAiException 502 when the endpoint failed before answering and no retry
	 * is left
	 * @throws InterruptedException if the waiting thread is interrupted
	 */
	public ExchangeResult forward(ExchangeRequest request, Admission.Running running, AnswerSink sink, boolean mayRetry)
			throws InterruptedException {
		Attempt attempt = new Attempt(running, request.tier(), sink, mayRetry);
		Endpoint endpoint = attempt.endpoint;
		byte[] sent = EnginePriorityStamp.sends(this.properties, endpoint)
				? EnginePriorityStamp.splice(request.body(), request.tier()) : request.body();
		UpstreamClient.Call call = this.upstream.post(endpoint.baseUri().resolve(request.path()), sent,
				request.stream(), request.requestId());
		AtomicReference<InputStream> bodyStream = new AtomicReference<>();
		running.onPreempt(() -> {
			call.cancel();
			InputStream in = bodyStream.get();
			if (in != null) {
				closeQuietly(in);
			}
		});
		UpstreamClient.Answer answer;
		try {
			answer = call.execute();
		}
		catch (IOException ex) {
			if (running.abandoned()) {
				this.health.record(endpoint, EndpointHealth.Outcome.CLIENT_GONE, "client gone");
				return new ExchangeResult(ExchangeOutcome.CLIENT_GONE, 0, 0);
			}
			if (running.preempted()) {
				this.health.record(endpoint, EndpointHealth.Outcome.PREEMPTED, "preempted");
				return new ExchangeResult(ExchangeOutcome.REQUEUED, 0, 0);
			}
			this.health.record(endpoint, EndpointHealth.Outcome.CONNECT_ERROR, ex.toString());
			return failedBeforeAnswer(attempt, "Upstream call failed before any byte", ex.toString());
		}
		IdleTimeoutInputStream body = IdleTimeoutInputStream.watch(LendingInput.of(answer.body(), this.bufferSize),
				this.sweeper, this.idleTimeout);
		bodyStream.set(body);
		attempt.firstByteAt = System.nanoTime();
		int status = answer.status();
		if (running.abandoned()) {
			closeQuietly(body);
			this.health.record(endpoint, EndpointHealth.Outcome.CLIENT_GONE, "client gone");
			return new ExchangeResult(ExchangeOutcome.CLIENT_GONE, status, 0);
		}
		if (running.preempted()) {
			closeQuietly(body);
			this.health.record(endpoint, EndpointHealth.Outcome.PREEMPTED, "preempted");
			return new ExchangeResult(ExchangeOutcome.REQUEUED, status, 0);
		}
		if (status >= 500) {
			this.health.record(endpoint, EndpointHealth.Outcome.SERVER_ERROR, "HTTP " + status);
			if (mayRetry) {
				closeQuietly(body);
				return new ExchangeResult(ExchangeOutcome.RETRY, status, 0);
			}
		}
		String contentType = (answer.contentType() != null) ? answer.contentType() : "application/json";
		ExchangeOutcome outcome;
		IdleTimeoutInputStream in = body;
		try {
			outcome = contentType.startsWith("text/event-stream") ? copyStream(attempt, in, status, contentType)
					: copyWhole(attempt, in, status, contentType, answer.contentLength());
		}
		finally {
			// Closing the body also aborts the call when the receiver left mid-answer.
			closeQuietly(in);
		}
		recordOutcome(attempt, outcome, status);
		return new ExchangeResult(outcome, status, attempt.firstByteAt);
	}

	private void recordOutcome(Attempt attempt, ExchangeOutcome outcome, int status) {
		Endpoint endpoint = attempt.endpoint;
		switch (outcome) {
			case DONE -> {
				if (status < 500) {
					this.health.record(endpoint, EndpointHealth.Outcome.SUCCESS, "");
				}
				this.health.recordLatency(endpoint.model(), Duration.ofNanos(attempt.firstByteAt - attempt.sentAt),
						Duration.ofNanos(System.nanoTime() - attempt.sentAt));
			}
			case CLIENT_GONE -> this.health.record(endpoint, EndpointHealth.Outcome.CLIENT_GONE, "client gone");
			case PREEMPTED, REQUEUED -> this.health.record(endpoint, EndpointHealth.Outcome.PREEMPTED, "preempted");
			default -> {
				// failures were recorded where they happened
			}
		}
	}

	/**
	 * The endpoint failed before anything reached the receiver: retry elsewhere if
	 * allowed, else 502.
	 */
	private ExchangeResult failedBeforeAnswer(Attempt attempt, String what, String cause) {
		if (attempt.mayRetry) {
			logger.info("{}, retrying elsewhere: {}", what, cause);
			return new ExchangeResult(ExchangeOutcome.RETRY, 0, 0);
		}
		logger.warn("{}: {}", what, cause);
		throw new OpenAiException(502, "server_error", "upstream_unavailable",
				"The inference endpoint could not be reached.", Duration.ofSeconds(1));
	}

	private ExchangeOutcome copyWhole(Attempt attempt, InputStream in, int status, String contentType,
			long contentLength) {
		byte[] all;
		try {
			all = RequestBodies.readWhole(in, contentLength);
		}
		catch (IOException ex) {
			if (attempt.running.abandoned()) {
				// Aborted because the client left while the answer was computed.
				return ExchangeOutcome.CLIENT_GONE;
			}
			if (attempt.running.preempted()) {
				return ExchangeOutcome.REQUEUED;
			}
			this.health.record(attempt.endpoint, EndpointHealth.Outcome.CONNECT_ERROR, "answer broke: " + ex);
			if (attempt.mayRetry) {
				return ExchangeOutcome.RETRY;
			}
			throw new OpenAiException(502, "server_error", "upstream_error",
					"The inference endpoint failed before answering.", Duration.ofSeconds(1));
		}
		if (!this.dispatcher.markSent(attempt.running)) {
			return ExchangeOutcome.REQUEUED;
		}
		if (status < 300) {
			all = withServiceTier(all, attempt.tier);
		}
		try {
			attempt.sink.begin(status, contentType, all.length).write(all);
			attempt.sink.flush();
		}
		catch (IOException ex) {
			return ExchangeOutcome.CLIENT_GONE;
		}
		return ExchangeOutcome.DONE;
	}

	/**
	 * Copies an event stream as its bytes arrive, lent from the body's buffer
	 * ({@link LendingInput}): a held stream keeps no copy buffer while it waits.
	 */
	private ExchangeOutcome copyStream(Attempt attempt, IdleTimeoutInputStream in, int status, String contentType) {
		try {
			in.await();
			attempt.firstByteAt = System.nanoTime();
		}
		catch (IOException ex) {
			if (attempt.running.abandoned()) {
				return ExchangeOutcome.CLIENT_GONE;
			}
			if (attempt.running.preempted()) {
				return ExchangeOutcome.REQUEUED;
			}
			this.health.record(attempt.endpoint, EndpointHealth.Outcome.CONNECT_ERROR,
					"stream broke before its first byte: " + ex);
			if (attempt.mayRetry) {
				return ExchangeOutcome.RETRY;
			}
			throw new OpenAiException(502, "server_error", "upstream_error",
					"The inference endpoint failed before answering.", Duration.ofSeconds(1));
		}
		// Nothing has reached the receiver yet; from here on, preemption ends the request
		// instead of requeueing it.
		if (!this.dispatcher.markSent(attempt.running)) {
			return ExchangeOutcome.REQUEUED;
		}
		OutputStream out;
		try {
			out = attempt.sink.begin(status, contentType, -1);
		}
		catch (IOException ex) {
			return ExchangeOutcome.CLIENT_GONE;
		}
		StreamCopy copy = new StreamCopy(attempt.sink, out, (status < 300) ? new ServiceTierStamp(attempt.tier) : null);
		try {
			while (in.lendTo(copy) >= 0) {
				// each lend wrote and flushed what arrived
			}
		}
		catch (IOException ex) {
			// The receiver went away (closing the upstream body aborts the call), or the
			// endpoint's stream broke.
			return copy.clientGone ? ExchangeOutcome.CLIENT_GONE : brokenMidStream(attempt, out, ex);
		}
		return copy.finish();
	}

	/** Writes and flushes each piece of an event stream as it is lent. */
	private static final class StreamCopy implements LendingInput.Borrower {

		private final AnswerSink sink;

		private final OutputStream out;

		private final ServiceTierStamp stamp;

		private boolean clientGone;

		StreamCopy(AnswerSink sink, OutputStream out, ServiceTierStamp stamp) {
			this.sink = sink;
			this.out = out;
			this.stamp = stamp;
		}

		@Override
		public void take(byte[] bytes, int offset, int length) throws IOException {
			try {
				if (this.stamp != null) {
					this.stamp.write(bytes, offset, length, this.out);
				}
				else {
					this.out.write(bytes, offset, length);
				}
				this.sink.flush();
			}
			catch (IOException ex) {
				this.clientGone = true;
				throw ex;
			}
		}

		/** Writes what the stamp held back at the stream's normal end. */
		ExchangeOutcome finish() {
			if (this.stamp != null) {
				try {
					this.stamp.finish(this.out);
					this.sink.flush();
				}
				catch (IOException ex) {
					return ExchangeOutcome.CLIENT_GONE;
				}
			}
			return ExchangeOutcome.DONE;
		}

	}

	private ExchangeOutcome brokenMidStream(Attempt attempt, OutputStream out, IOException ex) {
		if (attempt.running.abandoned()) {
			return ExchangeOutcome.CLIENT_GONE;
		}
		if (attempt.running.preempted()) {
			writeQuietly(attempt.sink, out, PREEMPTED_EVENT);
			return ExchangeOutcome.PREEMPTED;
		}
		logger.warn("Upstream failed mid-stream: {}", ex.toString());
		this.health.record(attempt.endpoint, EndpointHealth.Outcome.BROKEN_STREAM, ex.toString());
		writeQuietly(attempt.sink, out, UPSTREAM_FAILED_EVENT);
		return ExchangeOutcome.FAILED_MID_STREAM;
	}

	/**
	 * Sets OpenAI's {@code service_tier} in a JSON answer to the tier the request was
	 * served at.
	 */
	private byte[] withServiceTier(byte[] answer, Tier tier) {
		byte[] spliced = ServiceTierStamp.stampWhole(answer, tier);
		if (spliced != null) {
			return spliced;
		}
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

	private static void writeQuietly(AnswerSink sink, OutputStream out, byte[] bytes) {
		try {
			out.write(bytes);
			sink.flush();
		}
		catch (IOException ex) {
			// receiver gone as well
		}
	}

	/** One attempt's state, from send to the last byte. */
	private static final class Attempt {

		final Admission.Running running;

		final Endpoint endpoint;

		final Tier tier;

		final AnswerSink sink;

		final boolean mayRetry;

		final long sentAt = System.nanoTime();

		long firstByteAt = this.sentAt;

		Attempt(Admission.Running running, Tier tier, AnswerSink sink, boolean mayRetry) {
			this.running = running;
			this.endpoint = running.endpoint();
			this.tier = tier;
			this.sink = sink;
			this.mayRetry = mayRetry;
		}

	}

}
