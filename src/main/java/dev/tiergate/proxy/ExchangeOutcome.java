package dev.tiergate.proxy;

/**
 * How one attempt of an {@link UpstreamExchange} on one slot ended.
 */
public enum ExchangeOutcome {

	/** Answered (success, or an upstream error status passed through). */
	DONE,

	/** The receiver went away. */
	CLIENT_GONE,

	/**
	 * The upstream failed after the stream had begun; the receiver got an error event.
	 */
	FAILED_MID_STREAM,

	/** Preempted after streaming began; the receiver got a {@code preempted} event. */
	PREEMPTED,

	/** Preempted before anything was sent: wait for another slot. */
	REQUEUED,

	/** The endpoint failed before anything was sent: try once more elsewhere. */
	RETRY;

	/**
	 * Whether the request goes on with another attempt.
	 * @return {@code true} for {@link #REQUEUED} and {@link #RETRY}
	 */
	public boolean again() {
		return this == REQUEUED || this == RETRY;
	}

}
