package dev.tiergate.proxy;

import java.time.Duration;

import org.slf4j.MDC;

import dev.tiergate.dispatch.Admission;
import dev.tiergate.spill.Spillover;
import dev.tiergate.tier.Tier;

/**
 * The retry loop of one online request: waits for a slot, forwards through the
 * {@link UpstreamExchange}, and goes again while the attempt asks for it (requeued after
 * a preemption, or retried once on another endpoint). A request that may spill is sent to
 * the hosted upstream when its first wait runs out, or when the fleet turns it away.
 */
final class Attempts {

	private final UpstreamExchange exchange;

	private final HostedSpill hosted;

	private final ProxyMetrics metrics;

	Attempts(UpstreamExchange exchange, HostedSpill hosted, ProxyMetrics metrics) {
		this.exchange = exchange;
		this.hosted = hosted;
		this.metrics = metrics;
	}

	/**
	 * How a request was served.
	 *
	 * @param result the last attempt's result
	 * @param queuedNanos the time it waited for slots, over every attempt
	 */
	record Served(ExchangeResult result, long queuedNanos) {
	}

	/**
	 * Runs the request until it is answered, rejected or abandoned.
	 * @param admission the request's place in the dispatcher's queue
	 * @param upstream what to send
	 * @param model the model asked for
	 * @param sink the client's response
	 * @param spill the terms on which it may spill, or {@code null}
	 * @return how it was served
	 * @throws OpenAiException when the fleet turned it away and it could not spill
	 * @throws InterruptedException if the thread is interrupted while waiting
	 */
	Served run(Admission admission, ExchangeRequest upstream, String model, ServletAnswerSink sink,
			Spillover.Plan spill) throws InterruptedException {
		long queued = 0;
		boolean retried = false;
		Spillover.Plan spillable = spill;
		while (true) {
			Admission.Running running;
			try {
				// Spill only from the first wait: a request that has run on the fleet
				// stays.
				running = (spillable != null) ? admission.awaitSlot(spillable.spillAfter()) : admission.awaitSlot();
				if (running == null) {
					stamp(sink, upstream);
					ExchangeResult hosted = this.hosted.forward(spillable, admission, upstream, sink, sink::header);
					if (hosted != null) {
						return new Served(hosted, queued);
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
						? this.hosted.forward(spillable, admission, upstream, sink, sink::header) : null;
				if (hosted != null) {
					return new Served(hosted, queued);
				}
				this.metrics.count(model, upstream.tier(), rejected.reason().code());
				throw rejection(rejected, model, upstream.tier());
			}
			catch (Admission.Abandoned gone) {
				return new Served(new ExchangeResult(ExchangeOutcome.CLIENT_GONE, 0, 0), queued);
			}
			queued += running.queued().toNanos();
			spillable = null;
			MDC.put("endpoint", running.endpoint().key());
			stamp(sink, upstream);
			sink.header("x-tiergate-endpoint", running.endpoint().key());
			sink.header(HostedSpill.SERVED_BY, "fleet");
			sink.header("x-tiergate-queue-ms", Long.toString(Duration.ofNanos(queued).toMillis()));
			ExchangeResult result = this.exchange.forward(upstream, running, sink, !retried);
			ExchangeOutcome outcome = result.outcome();
			if (!outcome.again()) {
				return new Served(result, queued);
			}
			this.metrics.count(model, upstream.tier(), (outcome == ExchangeOutcome.RETRY) ? "retried" : "requeued");
			if (outcome == ExchangeOutcome.RETRY) {
				retried = true;
				admission.retryElsewhere();
			}
		}
	}

	private static void stamp(ServletAnswerSink sink, ExchangeRequest upstream) {
		sink.header("x-request-id", upstream.requestId());
		sink.header("x-tiergate-tier", upstream.tier().name());
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
