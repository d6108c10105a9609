package dev.tiergate.quota;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * A circuit breaker in front of Redis for the admission path, so that no request waits on
 * a Redis that is down. After {@code failureThreshold} consecutive failures it opens:
 * calls are not tried for {@code openFor}; then one probe call is let through
 * (half-open); its success closes the circuit, its failure opens it again. Lettuce
 * reconnects by itself, so the circuit closes without a restart when Redis returns.
 */
final class QuotaBackendCircuit {

	private static final Logger logger = LoggerFactory.getLogger(QuotaBackendCircuit.class);

	/** The circuit's state. */
	enum State {

		/** Redis answers; every call goes to it. */
		CLOSED,

		/** Redis failed; calls are not tried until the open period has passed. */
		OPEN,

		/** One probe call is trying Redis. */
		HALF_OPEN

	}

	private final int failureThreshold;

	private final Duration openFor;

	private final Clock clock;

	private final Counter errors;

	private final AtomicInteger consecutiveFailures = new AtomicInteger();

	private State state = State.CLOSED;

	private long openedAtMillis;

	QuotaBackendCircuit(int failureThreshold, Duration openFor, Clock clock, MeterRegistry meters) {
		this.failureThreshold = failureThreshold;
		this.openFor = openFor;
		this.clock = clock;
		this.errors = Counter.builder("tiergate.quota.backend.errors")
			.description("Failed or refused calls to the quota store (Redis)")
			.register(meters);
		Gauge.builder("tiergate.quota.backend.circuit.open", this, (c) -> (c.state() == State.CLOSED) ? 0 : 1)
			.description("1 while Redis is treated as unavailable and the outage policy applies")
			.register(meters);
	}

	/**
	 * Whether a call to Redis should be tried now. In the open state, the first caller
	 * after the open period becomes the probe.
	 * @return {@code true} to try Redis, {@code false} to use the fallback at once
	 */
	synchronized boolean allow() {
		return switch (this.state) {
			case CLOSED -> true;
			case HALF_OPEN -> false;
			case OPEN -> {
				if (this.clock.millis() - this.openedAtMillis >= this.openFor.toMillis()) {
					this.state = State.HALF_OPEN;
					yield true;
				}
				yield false;
			}
		};
	}

	/** Records a call that Redis answered. */
	void success() {
		if (this.consecutiveFailures.get() == 0 && this.state == State.CLOSED) {
			return;
		}
		synchronized (this) {
			this.consecutiveFailures.set(0);
			if (this.state != State.CLOSED) {
				logger.info("Quota store (Redis) answers again: quotas are enforced in Redis");
			}
			this.state = State.CLOSED;
		}
	}

	/**
	 * Records a failed call.
	 * @param cause what failed
	 */
	void failure(RuntimeException cause) {
		this.errors.increment();
		synchronized (this) {
			int failures = this.consecutiveFailures.incrementAndGet();
			if (this.state == State.HALF_OPEN || (this.state == State.CLOSED && failures >= this.failureThreshold)) {
				if (this.state == State.CLOSED) {
					logger.warn("Quota store (Redis) is failing ({}): circuit open, per-tier outage policy applies",
							cause.toString());
				}
				this.state = State.OPEN;
				this.openedAtMillis = this.clock.millis();
			}
		}
	}

	/**
	 * The current state.
	 * @return the state
	 */
	synchronized State state() {
		return this.state;
	}

}
