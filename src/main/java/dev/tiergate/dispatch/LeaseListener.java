package dev.tiergate.dispatch;

/**
 * Hears every lease start and end of the live runtime, and slots added to a pool: for
 * metering, and for the batch workers, whom a freed or added slot wakes. Calls come under
 * the pool's lock, in order per pool, stamped with the runtime's clock: an implementation
 * only records or unparks a thread (no I/O, no waiting, no call back into the runtime).
 */
public interface LeaseListener {

	/**
	 * A lease began to hold its slot.
	 * @param lease the lease (its endpoint attachment is the routing endpoint)
	 * @param epochNanos when, in nanoseconds since the epoch
	 */
	default void leaseStarted(Lease lease, long epochNanos) {
	}

	/**
	 * A lease gave its slot back: finished, cancelled, preempted or moved elsewhere.
	 * @param lease the lease
	 * @param epochNanos when, in nanoseconds since the epoch
	 */
	void leaseEnded(Lease lease, long epochNanos);

	/**
	 * A pool may have room that no lease gave back: an endpoint appeared, got more slots
	 * or takes requests again, this replica was granted more of the shared slots, or the
	 * tiers were defined anew.
	 * @param pool the pool (model)
	 * @param epochNanos when, in nanoseconds since the epoch
	 */
	default void roomOpened(String pool, long epochNanos) {
	}

}
