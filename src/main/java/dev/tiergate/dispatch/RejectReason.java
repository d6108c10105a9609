package dev.tiergate.dispatch;

/**
 * Why the scheduler turned a request away.
 */
public enum RejectReason {

	/**
	 * It waited longer than its tier's {@code maxQueueWait} (503 {@code queue_timeout}).
	 */
	QUEUE_TIMEOUT,

	/** Queues are full: shed to protect higher tiers (429 {@code overloaded}). */
	OVERLOADED,

	/** The pool has no endpoint accepting requests (503 {@code no_capacity}). */
	NO_CAPACITY,

	/**
	 * This replica is shutting down and answers what still waits for a slot (503
	 * {@code shutting_down} with {@code Retry-After}), so that the client retries on
	 * another replica instead of waiting past the grace period.
	 */
	SHUTTING_DOWN;

	/**
	 * Lower-case name for metrics and error codes.
	 * @return e.g. {@code queue_timeout}
	 */
	public String code() {
		return name().toLowerCase(java.util.Locale.ROOT);
	}

}
