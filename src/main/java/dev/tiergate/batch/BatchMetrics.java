package dev.tiergate.batch;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Batch metrics: items by outcome, attempts per item, preemptions and claims.
 */
class BatchMetrics {

	private final MeterRegistry meters;

	private final DistributionSummary attempts;

	private final Counter preempted;

	private final Counter reclaimed;

	BatchMetrics(MeterRegistry meters) {
		this.meters = meters;
		this.attempts = DistributionSummary.builder("tiergate.batch.item.attempts")
			.description("Attempts an item took until its result (1 = first try)")
			.serviceLevelObjectives(1, 2, 3, 5, 10)
			.register(meters);
		this.preempted = Counter.builder("tiergate.batch.items.preempted")
			.description("Times a running batch item lost its slot to a more urgent request and was requeued")
			.register(meters);
		this.reclaimed = Counter.builder("tiergate.batch.items.reclaimed")
			.description("Items claimed from workers that stopped (XAUTOCLAIM)")
			.register(meters);
		for (String outcome : new String[] { "completed", "failed" }) {
			counter(outcome);
		}
	}

	private Counter counter(String outcome) {
		return Counter.builder("tiergate.batch.items")
			.description(
					"Batch items finished, by outcome (completed: a 2xx answer in the output file; failed: the error file)")
			.tag("outcome", outcome)
			.register(this.meters);
	}

	void item(String outcome, int attempts) {
		counter(outcome).increment();
		if (attempts > 0) {
			this.attempts.record(attempts);
		}
	}

	void preempted() {
		this.preempted.increment();
	}

	void reclaimed() {
		this.reclaimed.increment();
	}

}
