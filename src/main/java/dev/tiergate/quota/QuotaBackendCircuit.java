package dev.tiergate.quota;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessException;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * A circuit breaker in front of Redis for the admission path, so that no request waits on
 * a Redis that is down: Resilience4j's {@link CircuitBreaker}, configured as follows.
 * After {@code failureThreshold} consecutive failures of the store (a count-based window
 * of that size, all failed) it opens: calls are not tried for {@code openFor}; then one
 * probe call is let through (half-open); its success closes the circuit, its failure
 * opens it again. A probe that never reports back (a caller that dies, a bug) holds the
 * half-open state for at most {@code halfOpenTimeout}, after which the circuit opens and,
 * {@code openFor} later, lets a new probe through. Only the store's failures count
 * ({@link DataAccessException}, Lettuce's exceptions): any other exception, such as a
 * malformed tenant record, means Redis answered, and counts as a success. Lettuce
 * reconnects by itself, so the circuit closes without a restart when Redis returns.
 */
final class QuotaBackendCircuit {

	private static final Logger logger = LoggerFactory.getLogger(QuotaBackendCircuit.class);

	/** Half-open timeout when none is given. */
	static final Duration DEFAULT_HALF_OPEN_TIMEOUT = Duration.ofSeconds(5);

	/** The circuit's state. */
	enum State {

		/** Redis answers; every call goes to it. */
		CLOSED,

		/** Redis failed; calls are not tried until the open period has passed. */
		OPEN,

		/** One probe call is trying Redis. */
		HALF_OPEN

	}

	private final CircuitBreaker breaker;

	private final Counter errors;

	private volatile Throwable lastFailure;

	QuotaBackendCircuit(int failureThreshold, Duration openFor, Clock clock, MeterRegistry meters) {
		this(failureThreshold, openFor, DEFAULT_HALF_OPEN_TIMEOUT, clock, meters);
	}

	/**
	 * The circuit.
	 * @param failureThreshold consecutive store failures that open it
	 * @param openFor how long it stays open before one probe
	 * @param halfOpenTimeout longest a probe may take to report before the circuit opens
	 * again
	 * @param clock the clock of the open period
	 * @param meters metrics
	 */
	QuotaBackendCircuit(int failureThreshold, Duration openFor, Duration halfOpenTimeout, Clock clock,
			MeterRegistry meters) {
		CircuitBreakerConfig config = CircuitBreakerConfig.custom()
			.slidingWindow(failureThreshold, failureThreshold, CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
			.failureRateThreshold(100)
			.waitDurationInOpenState(openFor)
			.automaticTransitionFromOpenToHalfOpenEnabled(false)
			.permittedNumberOfCallsInHalfOpenState(1)
			.maxWaitDurationInHalfOpenState(halfOpenTimeout)
			.recordException(QuotaBackendCircuit::storeFailure)
			.writableStackTraceEnabled(false)
			.clock(clock)
			.build();
		this.breaker = CircuitBreaker.of("quota-store", config);
		this.breaker.getEventPublisher().onStateTransition((event) -> {
			switch (event.getStateTransition().getToState()) {
				case OPEN -> {
					if (event.getStateTransition().getFromState() == CircuitBreaker.State.CLOSED) {
						logger.warn("Quota store (Redis) is failing ({}): circuit open, per-tier outage policy applies",
								String.valueOf(this.lastFailure));
					}
					else if (event.getStateTransition().getFromState() == CircuitBreaker.State.HALF_OPEN) {
						logger.debug("Quota store probe failed or timed out: circuit open again");
					}
				}
				case CLOSED -> logger.info("Quota store (Redis) answers again: quotas are enforced in Redis");
				default -> {
					// half-open: one probe
				}
			}
		});
		this.errors = Counter.builder("tiergate.quota.backend.errors")
			.description("Failed calls to the quota store (Redis)")
			.register(meters);
		Gauge.builder("tiergate.quota.backend.circuit.open", this, (c) -> (c.state() == State.CLOSED) ? 0 : 1)
			.description("1 while Redis is treated as unavailable and the outage policy applies")
			.register(meters);
	}

	/**
	 * Whether a failure is the store's (counts towards opening the circuit).
	 * @param failure what was thrown
	 * @return {@code true} for Spring's data access exceptions and Lettuce's own
	 */
	static boolean storeFailure(Throwable failure) {
		return failure instanceof DataAccessException || failure instanceof io.lettuce.core.RedisException;
	}

	/**
	 * Whether a call to Redis should be tried now. In the open state, the first caller
	 * after the open period becomes the probe. A caller allowed must report exactly once,
	 * with {@link #success()} or {@link #failure}.
	 * @return {@code true} to try Redis, {@code false} to use the fallback at once
	 */
	boolean allow() {
		return this.breaker.tryAcquirePermission();
	}

	/** Records a call that Redis answered. */
	void success() {
		this.breaker.onSuccess(0, TimeUnit.NANOSECONDS);
	}

	/**
	 * Records a failed call: a failure of the store counts towards opening the circuit,
	 * anything else means Redis answered.
	 * @param cause what failed
	 */
	void failure(Throwable cause) {
		if (storeFailure(cause)) {
			this.errors.increment();
			this.lastFailure = cause;
		}
		this.breaker.onError(0, TimeUnit.NANOSECONDS, cause);
	}

	/**
	 * The current state.
	 * @return the state
	 */
	State state() {
		return switch (this.breaker.getState()) {
			case OPEN, FORCED_OPEN -> State.OPEN;
			case HALF_OPEN -> State.HALF_OPEN;
			default -> State.CLOSED;
		};
	}

}
