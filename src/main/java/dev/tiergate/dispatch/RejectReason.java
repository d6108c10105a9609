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
	NO_CAPACITY;

	/**
	 * Lower-case name for metrics and error codes.
	 * @return e.g. {@code queue_timeout}
	 */
	public String code() {
		return name().toLowerCase(java.util.Locale.ROOT);
	}

}
