package dev.tiergate.fleet;

import java.util.ArrayDeque;
import java.util.Iterator;

/**
 * When something was busy, as a log of its start and stop times (nanoseconds on one
 * monotonic clock), so that the busy time up to any moment of the last minutes is exact:
 * a GPU activity counter's view of an engine. Times that come out of order (two engines
 * reporting to one GPU under their own locks) count as the latest time seen. Not
 * thread-safe: the owner serializes calls.
 */
public final class BusyLog {

	/** How long transitions are kept. */
	private static final long KEEP_NANOS = 10L * 60 * 1_000_000_000L;

	/** {time, busy nanoseconds up to then, 1 if busy from then on}. */
	private final ArrayDeque<long[]> points = new ArrayDeque<>();

	private long cumulative;

	private long lastTime = Long.MIN_VALUE;

	private boolean busy;

	/**
	 * Busy started or stopped.
	 * @param nowBusy whether it is busy from now on
	 * @param at when
	 */
	public void transition(boolean nowBusy, long at) {
		if (nowBusy == this.busy) {
			return;
		}
		long time = (this.lastTime == Long.MIN_VALUE) ? at : Math.max(at, this.lastTime);
		if (this.busy) {
			this.cumulative += time - this.lastTime;
		}
		this.busy = nowBusy;
		this.lastTime = time;
		this.points.addLast(new long[] { time, this.cumulative, nowBusy ? 1 : 0 });
		while (this.points.size() > 2 && time - this.points.peekFirst()[0] > KEEP_NANOS) {
			this.points.removeFirst();
		}
	}

	/**
	 * Busy nanoseconds up to a time.
	 * @param at the time
	 * @return busy time up to then (from the oldest transition kept)
	 */
	public long busyNanos(long at) {
		Iterator<long[]> newest = this.points.descendingIterator();
		while (newest.hasNext()) {
			long[] point = newest.next();
			if (point[0] <= at) {
				return point[1] + ((point[2] == 1) ? at - point[0] : 0);
			}
		}
		return this.points.isEmpty() ? 0 : this.points.peekFirst()[1];
	}

	/**
	 * Told when something starts or stops being busy.
	 */
	@FunctionalInterface
	public interface Transitions {

		/**
		 * Busy started or stopped.
		 * @param busy whether it is busy from now on
		 * @param at when, on {@link System#nanoTime()}
		 */
		void transition(boolean busy, long at);

	}

}
