package dev.tiergate.batch;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Batch metrics: items by outcome, attempts per item, preemptions and claims, items
 * waiting per pool and unfinished batches per status (both refreshed by the workers'
 * maintenance pass, every {@code reclaim-interval}).
 */
class BatchMetrics {

	private final MeterRegistry meters;

	private final Map<String, AtomicLong> depth = new ConcurrentHashMap<>();

	private final Map<BatchStatus, AtomicLong> batches = new EnumMap<>(BatchStatus.class);

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
		for (BatchStatus status : BatchStatus.values()) {
			if (!status.terminal()) {
				AtomicLong count = new AtomicLong();
				this.batches.put(status, count);
				Gauge.builder("tiergate.batches", count, AtomicLong::get)
					.description("Unfinished batches (in every replica's view of Redis) by status")
					.tag("status", status.wire())
					.register(meters);
			}
		}
	}

	/**
	 * Sets the gauges from one pass over the unfinished batches.
	 * @param queuedByPool items not yet started, by pool (model)
	 * @param byStatus unfinished batches by status
	 */
	void refresh(Map<String, Long> queuedByPool, Map<BatchStatus, Long> byStatus) {
		this.depth.forEach((pool, value) -> value.set(queuedByPool.getOrDefault(pool, 0L)));
		queuedByPool.forEach((pool, queued) -> this.depth.computeIfAbsent(pool, (p) -> {
			AtomicLong value = new AtomicLong();
			Gauge.builder("tiergate.batch.queue.depth", value, AtomicLong::get)
				.description("Batch items waiting in Redis to start, by pool (model)")
				.tag("pool", p)
				.register(this.meters);
			return value;
		}).set(queued));
		this.batches.forEach((status, value) -> value.set(byStatus.getOrDefault(status, 0L)));
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
