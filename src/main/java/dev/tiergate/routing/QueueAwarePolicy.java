package dev.tiergate.routing;

import java.time.Duration;

/**
 * {@code queue-aware}: scores each candidate by its last scraped vLLM gauges and picks
 * the lowest score, <pre>
 * score = (2 x waiting + running + sent since the scrape) / slots + KV-cache usage
 * </pre> Waiting requests count double (they mean the engine's batch is full), requests
 * this replica sent after the scrape are added so that a burst does not all land on the
 * endpoint that looked idle, and a nearly full KV cache (which makes vLLM preempt and
 * recompute) weighs as much as a full batch. Ties go to fewer leases. When any
 * candidate's scrape is missing, failed or older than the staleness bound, the choice
 * falls back to least-outstanding for the pool: scores of some endpoints cannot be
 * compared with guesses for others.
 */
public final class QueueAwarePolicy implements BalancingPolicy {

	private final long staleAfterNanos;

	/**
	 * A queue-aware policy.
	 * @param staleAfter how old a scrape may be to count
	 */
	public QueueAwarePolicy(Duration staleAfter) {
		this.staleAfterNanos = staleAfter.toNanos();
	}

	@Override
	public int choose(long affinityKey, Candidates candidates) {
		int size = candidates.size();
		long now = candidates.now();
		int best = 0;
		double bestScore = Double.MAX_VALUE;
		for (int i = 0; i < size; i++) {
			Endpoint endpoint = candidates.endpoint(i);
			if (endpoint == null) {
				return 0;
			}
			EndpointMetrics metrics = endpoint.freshMetrics(now, this.staleAfterNanos);
			if (metrics == null) {
				return 0;
			}
			double score = score(metrics, candidates.inFlight(i), candidates.slots(i));
			if (score < bestScore || (score == bestScore && candidates.inFlight(i) < candidates.inFlight(best))) {
				best = i;
				bestScore = score;
			}
		}
		return best;
	}

	/**
	 * An endpoint's score; lower is better.
	 * @param metrics its last scrape
	 * @param inFlight leases on it now
	 * @param slots its slots
	 * @return the score
	 */
	static double score(EndpointMetrics metrics, int inFlight, int slots) {
		double sentSince = Math.max(0, inFlight - metrics.inFlightAtScrape());
		return (2 * metrics.waiting() + metrics.running() + sentSince) / Math.max(1, slots) + metrics.kvCacheUsage();
	}

}
