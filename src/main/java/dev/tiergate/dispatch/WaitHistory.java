package dev.tiergate.dispatch;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import dev.tiergate.tier.Tier;

/**
 * The last few minutes of queue waits per tier, kept in fixed rings, so the dashboard can
 * chart wait percentiles over time without a metrics backend.
 */
public final class WaitHistory {

	private static final int CAPACITY = 16_384;

	private final long[][] at = new long[Tier.values().length][CAPACITY];

	private final long[][] waits = new long[Tier.values().length][CAPACITY];

	private final int[] next = new int[Tier.values().length];

	private final int[] size = new int[Tier.values().length];

	/**
	 * Records one wait.
	 * @param tier the tier
	 * @param atMillis when the request was dispatched (epoch millis)
	 * @param waitNanos how long it waited
	 */
	public synchronized void record(Tier tier, long atMillis, long waitNanos) {
		int t = tier.ordinal();
		this.at[t][this.next[t]] = atMillis;
		this.waits[t][this.next[t]] = waitNanos;
		this.next[t] = (this.next[t] + 1) % CAPACITY;
		this.size[t] = Math.min(CAPACITY, this.size[t] + 1);
	}

	/**
	 * Wait percentiles per tier in consecutive buckets ending now.
	 * @param nowMillis the time (epoch millis)
	 * @param bucketMillis bucket width
	 * @param buckets how many buckets
	 * @return per tier, one point per bucket (empty buckets have zero samples)
	 */
	public synchronized Map<Tier, List<Point>> percentiles(long nowMillis, long bucketMillis, int buckets) {
		Map<Tier, List<Point>> result = new EnumMap<>(Tier.class);
		long start = nowMillis - bucketMillis * buckets;
		for (Tier tier : Tier.values()) {
			int t = tier.ordinal();
			List<List<Long>> byBucket = new ArrayList<>();
			for (int b = 0; b < buckets; b++) {
				byBucket.add(new ArrayList<>());
			}
			for (int i = 0; i < this.size[t]; i++) {
				long when = this.at[t][i];
				if (when > start && when <= nowMillis) {
					int b = (int) Math.min(buckets - 1, (when - start) / bucketMillis);
					byBucket.get(b).add(this.waits[t][i]);
				}
			}
			List<Point> points = new ArrayList<>();
			for (int b = 0; b < buckets; b++) {
				long[] sorted = byBucket.get(b).stream().mapToLong(Long::longValue).toArray();
				Arrays.sort(sorted);
				points.add(new Point(start + (b + 1) * bucketMillis, sorted.length, quantile(sorted, 0.50),
						quantile(sorted, 0.95), quantile(sorted, 0.99)));
			}
			result.put(tier, points);
		}
		return result;
	}

	private static double quantile(long[] sorted, double q) {
		if (sorted.length == 0) {
			return 0;
		}
		int index = (int) Math.ceil(q * sorted.length) - 1;
		return sorted[Math.max(0, Math.min(sorted.length - 1, index))] / 1_000_000.0;
	}

	/**
	 * Wait percentiles of one bucket, in milliseconds.
	 *
	 * @param endMillis end of the bucket (epoch millis)
	 * @param samples waits in the bucket
	 * @param p50 median
	 * @param p95 95th percentile
	 * @param p99 99th percentile
	 */
	public record Point(long endMillis, int samples, double p50, double p95, double p99) {
	}

}
