package dev.tiergate.dispatch;

import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import dev.tiergate.routing.EndpointLease;
import dev.tiergate.routing.EndpointRegistry;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * Grants slots on endpoints to requests. A request takes a free slot on the least loaded accepting endpoint of its
 * model, or waits for one up to {@link DispatchProperties#maxQueueWait()}.
 */
public class Dispatcher {

	private final EndpointRegistry registry;

	private final DispatchProperties properties;

	private final Clock clock;

	private final MeterRegistry meters;

	private final ReentrantLock lock = new ReentrantLock();

	private final Condition capacityChanged = this.lock.newCondition();

	public Dispatcher(EndpointRegistry registry, DispatchProperties properties, Clock clock, MeterRegistry meters) {
		this.registry = registry;
		this.properties = properties;
		this.clock = clock;
		this.meters = meters;
		registry.onCapacityChange(this::signal);
	}

	private void signal() {
		this.lock.lock();
		try {
			this.capacityChanged.signalAll();
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * Obtains a slot for one request, waiting while every slot of the model's pool is taken.
	 * @param model the model asked for
	 * @param tier the request's tier
	 * @return the decision
	 * @throws InterruptedException if the waiting thread is interrupted
	 */
	public DispatchOutcome dispatch(String model, Tier tier) throws InterruptedException {
		long start = this.clock.millis();
		long deadlineNanos = System.nanoTime() + this.properties.maxQueueWait().toNanos();
		while (true) {
			if (this.registry.pool(model).isEmpty()) {
				return reject(DispatchOutcome.Reason.UNKNOWN_MODEL, "The model '" + model + "' does not exist");
			}
			if (this.registry.pool(model).stream().noneMatch((e) -> e.accepting())) {
				return reject(DispatchOutcome.Reason.NO_CAPACITY,
						"No endpoint of model '" + model + "' is ready to take requests");
			}
			Optional<EndpointLease> lease = this.registry.tryAcquire(model);
			if (lease.isPresent()) {
				Duration queued = Duration.ofMillis(Math.max(0, this.clock.millis() - start));
				Timer.builder("tiergate.dispatch.queue.wait")
					.tag("model", model)
					.tag("priority", tier.name())
					.register(this.meters)
					.record(queued);
				return new DispatchOutcome.Dispatched(lease.get(), queued);
			}
			this.lock.lock();
			try {
				long remaining = deadlineNanos - System.nanoTime();
				if (remaining <= 0) {
					return reject(DispatchOutcome.Reason.QUEUE_TIMEOUT, "Request waited longer than "
							+ this.properties.maxQueueWait().toMillis() + " ms for a free slot");
				}
				// Bounded wait: a missed signal costs at most 50 ms.
				this.capacityChanged.await(Math.min(remaining, TimeUnit.MILLISECONDS.toNanos(50)), TimeUnit.NANOSECONDS);
			}
			finally {
				this.lock.unlock();
			}
		}
	}

	private DispatchOutcome.Rejected reject(DispatchOutcome.Reason reason, String message) {
		return new DispatchOutcome.Rejected(reason, message, this.properties.retryAfter());
	}

}
