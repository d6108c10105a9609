package dev.tiergate.routing;

/**
 * Picks the endpoint of a pool that a request is dispatched to, among those with a free
 * slot. The scheduler decides whether a request gets a slot at all; a policy only decides
 * where. It is called by the pool's scheduler under the pool's lock, for one pool at a
 * time, and must neither block nor do I/O.
 */
public interface BalancingPolicy {

	/**
	 * Chooses a candidate.
	 * @param affinityKey a 64-bit hash of what should stick to one endpoint (a prompt
	 * prefix or a session), or 0 for none
	 * @param candidates the endpoints with a free slot; the one at index 0 has the fewest
	 * leases
	 * @return an index in {@code [0, candidates.size())}; anything else means index 0
	 */
	int choose(long affinityKey, Candidates candidates);

	/**
	 * The endpoints a request may go to, as the scheduler sees them at the moment of the
	 * choice. Implementations are views over the scheduler's own arrays: valid only
	 * during {@link #choose}, never kept.
	 */
	interface Candidates {

		/**
		 * How many endpoints have a free slot (at least 1 when a policy is asked).
		 * @return the count
		 */
		int size();

		/**
		 * The routing endpoint of a candidate.
		 * @param i index
		 * @return the endpoint, or {@code null} where the scheduler runs without the
		 * registry (benchmarks)
		 */
		Endpoint endpoint(int i);

		/**
		 * Leases the scheduler holds on a candidate.
		 * @param i index
		 * @return leases
		 */
		int inFlight(int i);

		/**
		 * Slots of a candidate.
		 * @param i index
		 * @return slots
		 */
		int slots(int i);

		/**
		 * The time of the event being handled, on the scheduler's clock (epoch
		 * nanoseconds in the live runtime), so that a policy judges staleness without
		 * reading a clock of its own.
		 * @return nanos
		 */
		long now();

	}

}
