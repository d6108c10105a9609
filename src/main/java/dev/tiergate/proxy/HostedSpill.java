package dev.tiergate.proxy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.tiergate.dispatch.Admission;
import dev.tiergate.spill.SpillBudget;
import dev.tiergate.spill.Spillover;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Serves a request from its model's hosted upstream when its tier's wait for the fleet
 * ran out: reserves its largest cost under the spend caps (or leaves it waiting for the
 * fleet when a cap is reached), steps it out of the fleet's queue, forwards it, copies
 * the answer (a stream flushed per read) and settles the spend with the answer's
 * {@code usage}. A hosted failure before anything reached the caller (429, 5xx, a
 * timeout, a refused connection) costs nothing and is never passed on: the request goes
 * back to waiting for the fleet within its tier's deadline (the caller
 * {@link Admission#rejoin() rejoins} the queue). The upstream's key never appears in a
 * log line or an answer.
 */
public final class HostedSpill {

	private static final Logger logger = LoggerFactory.getLogger(HostedSpill.class);

	/**
	 * The header that tells where a request was served: {@code fleet} or {@code hosted}.
	 */
	static final String SERVED_BY = "x-tiergate-served-by";

	private static final byte[] HOSTED_FAILED_EVENT = ("data: {\"error\":{\"message\":\"The hosted upstream failed "
			+ "while streaming.\",\"type\":\"server_error\",\"param\":null,\"code\":\"upstream_error\"}}\n\n"
			+ "data: [DONE]\n\n")
		.getBytes(StandardCharsets.UTF_8);

	private static final int MAX_LINE = 256 * 1024;

	private final Spillover spillover;

	private final JsonMapper json;

	private final int bufferSize;

	private final Sweeper sweeper;

	HostedSpill(Spillover spillover, JsonMapper json, ProxyProperties properties, Sweeper sweeper) {
		this.spillover = spillover;
		this.json = json;
		this.bufferSize = (int) properties.streamBufferSize().toBytes();
		this.sweeper = sweeper;
	}

	/**
	 * Sends the request to the hosted upstream, if the spend caps allow.
	 * @param plan the terms
	 * @param admission the request's place in the fleet's queue, left
	 * ({@link Admission#stepOut()}) once the spend is reserved
	 * @param request what to send
	 * @param sink where the answer goes
	 * @param headers sets a response header (before the answer begins)
	 * @return how it ended, or {@code null} when the hosted upstream served nothing: a
	 * cap was reached (the request is still queued) or the hosted upstream failed before
	 * answering (the request stepped out: {@link Admission#rejoin()} puts it back)
	 * @throws InterruptedException if the thread is interrupted while waiting
	 */
	public ExchangeResult forward(Spillover.Plan plan, Admission admission, ExchangeRequest request, AnswerSink sink,
			java.util.function.BiConsumer<String, String> headers) throws InterruptedException {
		SpillBudget.Reservation reservation;
		try {
			reservation = this.spillover.budget().reserve(plan.tenant(), plan.maxCost());
		}
		catch (RuntimeException ex) {
			// The spend cannot be checked (Redis unavailable): no spill, the fleet as
			// before.
			logger.warn("Spill budget unavailable for model {}: {}", plan.model(), ex.getClass().getName());
			this.spillover.metrics().request(plan.model(), plan.tier(), "budget_unavailable");
			return null;
		}
		if (reservation instanceof SpillBudget.Disabled) {
			this.spillover.metrics().request(plan.model(), plan.tier(), "spill_off");
			return null;
		}
		if (!(reservation instanceof SpillBudget.Reserved reserved)) {
			this.spillover.metrics().request(plan.model(), plan.tier(), "cap_reached");
			this.spillover.metrics().capReached(((SpillBudget.Refused) reservation).scope());
			return null;
		}
		// Out of the fleet's queue: a slot granted meanwhile is given back.
		admission.stepOut();
		Attempt attempt = new Attempt(plan, reserved, admission);
		try {
			return send(attempt, request, sink, headers);
		}
		catch (Fallback ex) {
			return null;
		}
		catch (RuntimeException ex) {
			// Never a 500 for the hosted side's trouble.
			logger.warn("Hosted upstream call for model {} failed: {}", plan.model(), ex.getClass().getName());
			if (attempt.begun) {
				attempt.served = false;
				this.spillover.metrics().request(plan.model(), plan.tier(), "hosted_error");
				return new ExchangeResult(ExchangeOutcome.FAILED_MID_STREAM, attempt.status, 0);
			}
			fail(attempt, "hosted_error");
			return null;
		}
		finally {
			admission.onAbandon(null);
			attempt.settle();
		}
	}

	private ExchangeResult send(Attempt attempt, ExchangeRequest request, AnswerSink sink,
			java.util.function.BiConsumer<String, String> headers) throws InterruptedException {
		Spillover.Plan plan = attempt.plan;
		CompletableFuture<HttpResponse<InputStream>> call = this.spillover.client()
			.post(plan.upstream(), request.path(), request.body(), request.stream(), request.requestId());
		// A client that leaves aborts the call: nobody would read the answer it pays for.
		attempt.admission.onAbandon(() -> {
			call.cancel(true);
			attempt.closeBody();
		});
		HttpResponse<InputStream> answer;
		try {
			answer = call.get();
		}
		catch (ExecutionException | CancellationException ex) {
			if (attempt.admission.abandoned()) {
				throw fail(attempt, "client_gone");
			}
			boolean timeout = ex.getCause() instanceof HttpTimeoutException;
			logger.warn("Hosted upstream for model {} did not answer: {}", plan.model(),
					(ex.getCause() != null) ? ex.getCause().getClass().getName() : ex.getClass().getName());
			throw fail(attempt, timeout ? "hosted_timeout" : "hosted_error");
		}
		catch (InterruptedException ex) {
			call.cancel(true);
			throw ex;
		}
		int status = answer.statusCode();
		attempt.body = answer.body();
		if (attempt.admission.abandoned()) {
			attempt.closeBody();
		}
		try (InputStream body = IdleTimeoutInputStream.watch(answer.body(), this.sweeper,
				plan.upstream().idleTimeout())) {
			if (status == 429) {
				drain(body);
				throw fail(attempt, "hosted_rate_limited");
			}
			if (status >= 300 && status != 400) {
				drain(body);
				logger.warn("Hosted upstream for model {} answered HTTP {}", plan.model(), status);
				throw fail(attempt, (status == 408 || status == 504) ? "hosted_timeout" : "hosted_error");
			}
			// A refused request (400) is not billed.
			attempt.served = status < 300;
			attempt.status = status;
			headers.accept(SERVED_BY, "hosted");
			long firstByteAt = System.nanoTime();
			String contentType = answer.headers().firstValue("Content-Type").orElse("application/json");
			ExchangeOutcome outcome = contentType.startsWith("text/event-stream")
					? copyStream(attempt, body, status, contentType, sink)
					: copyWhole(attempt, body, status, contentType, sink);
			this.spillover.metrics()
				.request(plan.model(), plan.tier(), (outcome == ExchangeOutcome.DONE)
						? ((status < 300) ? "served" : "hosted_bad_request") : ProxyMetrics.tag(outcome));
			return new ExchangeResult(outcome, status, firstByteAt);
		}
		catch (IOException ex) {
			// Closing the body failed: the answer is over anyway.
			return new ExchangeResult(ExchangeOutcome.DONE, status, 0);
		}
	}

	private ExchangeOutcome copyWhole(Attempt attempt, InputStream in, int status, String contentType,
			AnswerSink sink) {
		byte[] all;
		try {
			all = in.readAllBytes();
		}
		catch (IOException ex) {
			throw fail(attempt, attempt.admission.abandoned() ? "client_gone" : "hosted_timeout");
		}
		if (status < 300) {
			attempt.usage = usageOf(all);
			all = stamped(all, attempt);
		}
		try {
			attempt.begun = true;
			sink.begin(status, contentType, all.length).write(all);
			sink.flush();
		}
		catch (IOException ex) {
			return ExchangeOutcome.CLIENT_GONE;
		}
		return ExchangeOutcome.DONE;
	}

	private ExchangeOutcome copyStream(Attempt attempt, InputStream in, int status, String contentType,
			AnswerSink sink) {
		byte[] buffer = new byte[this.bufferSize];
		int n;
		try {
			n = in.read(buffer);
		}
		catch (IOException ex) {
			throw fail(attempt, attempt.admission.abandoned() ? "client_gone" : "hosted_timeout");
		}
		OutputStream out;
		try {
			attempt.begun = true;
			out = sink.begin(status, contentType, -1);
		}
		catch (IOException ex) {
			return ExchangeOutcome.CLIENT_GONE;
		}
		ServiceTierStamp stamp = new ServiceTierStamp(attempt.plan.tier());
		ByteArrayOutputStream line = new ByteArrayOutputStream();
		while (n >= 0) {
			scan(attempt, line, buffer, n);
			try {
				stamp.write(buffer, 0, n, out);
				sink.flush();
			}
			catch (IOException ex) {
				return ExchangeOutcome.CLIENT_GONE;
			}
			try {
				n = in.read(buffer);
			}
			catch (IOException ex) {
				if (attempt.admission.abandoned()) {
					return ExchangeOutcome.CLIENT_GONE;
				}
				logger.warn("Hosted upstream for model {} failed mid-stream", attempt.plan.model());
				try {
					out.write(HOSTED_FAILED_EVENT);
					sink.flush();
				}
				catch (IOException gone) {
					// receiver gone as well
				}
				return ExchangeOutcome.FAILED_MID_STREAM;
			}
		}
		try {
			stamp.finish(out);
			sink.flush();
		}
		catch (IOException ex) {
			return ExchangeOutcome.CLIENT_GONE;
		}
		return ExchangeOutcome.DONE;
	}

	/** Finds the event that carries {@code usage}, line by line. */
	private void scan(Attempt attempt, ByteArrayOutputStream line, byte[] buffer, int n) {
		for (int i = 0; i < n; i++) {
			if (buffer[i] == '\n') {
				String text = line.toString(StandardCharsets.UTF_8);
				line.reset();
				if (text.startsWith("data:") && text.contains("\"usage\"")) {
					long[] usage = usageOf(text.substring(5).strip().getBytes(StandardCharsets.UTF_8));
					if (usage != null) {
						attempt.usage = usage;
					}
				}
			}
			else if (line.size() < MAX_LINE) {
				line.write(buffer[i]);
			}
		}
	}

	private long[] usageOf(byte[] answer) {
		try {
			JsonNode usage = this.json.readTree(answer).path("usage");
			if (usage.path("prompt_tokens").isIntegralNumber()) {
				return new long[] { usage.path("prompt_tokens").asLong(), usage.path("completion_tokens").asLong(0) };
			}
		}
		catch (JacksonException ex) {
			// not JSON: no usage
		}
		return null;
	}

	private byte[] stamped(byte[] answer, Attempt attempt) {
		try {
			JsonNode node = this.json.readTree(answer);
			if (node instanceof ObjectNode object) {
				object.put("service_tier", ServiceTierStamp.serviceTier(attempt.plan.tier()));
				return this.json.writeValueAsBytes(object);
			}
		}
		catch (JacksonException ex) {
			// not JSON: pass it through unchanged
		}
		return answer;
	}

	/**
	 * The hosted upstream failed before anything reached the caller: nothing is billed,
	 * and the request goes back to the fleet.
	 */
	private Fallback fail(Attempt attempt, String outcome) {
		attempt.served = false;
		this.spillover.metrics().request(attempt.plan.model(), attempt.plan.tier(), outcome);
		return Fallback.INSTANCE;
	}

	private static void drain(InputStream body) {
		try {
			body.readNBytes(64 * 1024);
		}
		catch (IOException ex) {
			// discarded anyway
		}
	}

	/** One spill's state, until its spend is settled. */
	private final class Attempt {

		final Spillover.Plan plan;

		final SpillBudget.Reserved reserved;

		boolean served = true;

		/** Whether the answer began to reach the caller (no fallback after that). */
		boolean begun;

		/** The hosted answer's status, once known. */
		int status;

		long[] usage;

		final Admission admission;

		/** The hosted answer's body, once it has begun; closed when the client goes. */
		volatile InputStream body;

		Attempt(Spillover.Plan plan, SpillBudget.Reserved reserved, Admission admission) {
			this.plan = plan;
			this.reserved = reserved;
			this.admission = admission;
		}

		void closeBody() {
			InputStream in = this.body;
			if (in != null) {
				try {
					in.close();
				}
				catch (IOException ex) {
					// closing is all that was asked
				}
			}
		}

		/**
		 * Settles the spend: nothing when the hosted upstream served nothing, the real
		 * cost with its {@code usage}, else the reservation.
		 */
		void settle() {
			double dollars = !this.served ? 0
					: (this.usage != null) ? this.plan.cost(this.usage[0], this.usage[1]) : this.plan.maxCost();
			try {
				HostedSpill.this.spillover.budget().settle(this.reserved, dollars);
			}
			catch (RuntimeException ex) {
				// The reservation stays charged: the cap errs on the safe side.
				logger.warn("Spill spend not settled: {}", ex.getClass().getName());
			}
			if (dollars > 0) {
				HostedSpill.this.spillover.metrics().cost(this.plan.tenant(), dollars);
			}
		}

	}

	/** The hosted upstream failed before the answer began: back to the fleet. */
	private static final class Fallback extends RuntimeException {

		static final Fallback INSTANCE = new Fallback();

		private Fallback() {
			super("hosted upstream failed", null, false, false);
		}

	}

}
