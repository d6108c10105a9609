package dev.tiergate.dispatch;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.PackedHistogram;
import org.HdrHistogram.Recorder;

import dev.tiergate.tier.Tier;

/**
 * The last few minutes of queue waits per tier, in fixed intervals, so the dashboard can
 * chart wait percentiles over time without a metrics backend.
 * <p>
 * Each pool records into its own {@link PoolWaits} (per tier, a ring of intervals, each
 * an HdrHistogram {@link Recorder}): recording is wait-free and takes no lock, so a pool
 * never waits on another pool or on a reader. Percentiles are computed by the reader
 * ({@link #percentiles(long)}, a dashboard poll), which takes no dispatch lock: it drains
 * each interval's recorder into the interval's own histogram under that interval's
 * monitor, which only readers use.
 */
public final class WaitHistory {

	/** Width of one interval. */
	public static final Duration INTERVAL = Duration.ofSeconds(15);

	/** Intervals kept and charted: five minutes. */
	public static final int INTERVALS = 20;

	/** Waits are recorded in microseconds with this many significant digits. */
	private static final int DIGITS = 3;

	private final long intervalMillis;

	private final int intervals;

	private final Map<String, PoolWaits> pools = new ConcurrentHashMap<>();

	/**
	 * A history of {@link #INTERVALS} intervals of {@link #INTERVAL}.
	 */
	public WaitHistory() {
		this(INTERVAL, INTERVALS);
	}

	WaitHistory(Duration interval, int intervals) {
		this.intervalMillis = interval.toMillis();
		this.intervals = intervals;
	}

	/**
	 * The recorder of one pool, created on first use.
	 * @param pool the pool (model)
	 * @return its recorder
	 */
	PoolWaits pool(String pool) {
		return this.pools.computeIfAbsent(pool, (name) -> new PoolWaits(this.intervalMillis, this.intervals + 1));
	}

	/**
	 * The width of one interval.
	 * @return milliseconds
	 */
	public long intervalMillis() {
		return this.intervalMillis;
	}

	/**
	 * Wait percentiles per tier, all pools together, in the intervals ending with the
	 * current one. Takes no dispatch lock.
	 * @param nowMillis the time (epoch millis)
	 * @return per tier, one point per interval, oldest first (empty intervals have zero
	 * samples)
	 */
	public Map<Tier, List<Point>> percentiles(long nowMillis) {
		long current = Math.floorDiv(nowMillis, this.intervalMillis);
		Map<Tier, List<Point>> result = new EnumMap<>(Tier.class);
		for (Tier tier : Tier.values()) {
			List<Point> points = new ArrayList<>(this.intervals);
			for (long epoch = current - this.intervals + 1; epoch <= current; epoch++) {
				Histogram merged = new PackedHistogram(DIGITS);
				for (PoolWaits pool : this.pools.values()) {
					pool.addTo(tier, epoch, merged);
				}
				points.add(Point.of((epoch + 1) * this.intervalMillis, merged));
			}
			result.put(tier, points);
		}
		return result;
	}

	/**
	 * One pool's waits: per tier, a ring of intervals. Thread-safe; the pool records
	 * under its own lock, but nothing here relies on it.
	 */
	static final class PoolWaits {

		private final long intervalMillis;

		private final List<AtomicReferenceArray<Interval>> rings = new ArrayList<>();

		PoolWaits(long intervalMillis, int size) {
			this.intervalMillis = intervalMillis;
			for (int i = 0; i < Tier.values().length; i++) {
				this.rings.add(new AtomicReferenceArray<>(size));
			}
		}

		/**
		 * Records one wait. Wait-free but for the first wait of an interval, which
		 * allocates the interval.
		 * @param tier the tier
		 * @param atMillis when the request was dispatched (epoch millis)
		 * @param waitNanos how long it waited
		 */
		void record(Tier tier, long atMillis, long waitNanos) {
			long epoch = Math.floorDiv(atMillis, this.intervalMillis);
			AtomicReferenceArray<Interval> ring = this.rings.get(tier.ordinal());
			int slot = (int) Math.floorMod(epoch, (long) ring.length());
			while (true) {
				Interval interval = ring.get(slot);
				if (interval != null && interval.epoch == epoch) {
					interval.record(waitNanos);
					return;
				}
				if (interval != null && interval.epoch > epoch) {
					// Older than the ring holds (a clock that went back): dropped.
					return;
				}
				Interval fresh = new Interval(epoch);
				if (ring.compareAndSet(slot, interval, fresh)) {
					fresh.record(waitNanos);
					return;
				}
			}
		}

		void addTo(Tier tier, long epoch, Histogram into) {
			AtomicReferenceArray<Interval> ring = this.rings.get(tier.ordinal());
			Interval interval = ring.get((int) Math.floorMod(epoch, (long) ring.length()));
			if (interval != null && interval.epoch == epoch) {
				interval.addTo(into);
			}
		}

	}

	/**
	 * One interval of one tier in one pool.
	 */
	private static final class Interval {

		final long epoch;

		private final Recorder recorder = new Recorder(DIGITS, true);

		/** What readers have drained so far; guarded by this (readers only). */
		private Histogram drained;

		/** The recorder's spare histogram, handed back on the next drain. */
		private Histogram spare;

		Interval(long epoch) {
			this.epoch = epoch;
		}

		void record(long waitNanos) {
			this.recorder.recordValue(Math.max(0, waitNanos / 1_000));
		}

		synchronized void addTo(Histogram into) {
			Histogram latest = this.recorder.getIntervalHistogram(this.spare);
			if (this.drained == null) {
				this.drained = new PackedHistogram(DIGITS);
			}
			this.drained.add(latest);
			this.spare = latest;
			into.add(this.drained);
		}

	}

	/**
	 * Wait percentiles of one interval, in milliseconds (HdrHistogram's precision: three
	 * significant digits).
	 *
	 * @param endMillis end of the interval (epoch millis)
	 * @param samples waits in the interval
	 * @param p50 median
	 * @param p95 95th percentile
	 * @param p99 99th percentile
	 */
	public record Point(long endMillis, long samples, double p50, double p95, double p99) {

		static Point of(long endMillis, Histogram waits) {
			if (waits.getTotalCount() == 0) {
				return new Point(endMillis, 0, 0, 0, 0);
			}
			return new Point(endMillis, waits.getTotalCount(), millis(waits, 50), millis(waits, 95), millis(waits, 99));
		}

		private static double millis(Histogram waits, double percentile) {
			return waits.getValueAtPercentile(percentile) / 1_000.0;
		}

	}

}
