package dev.tiergate.proxy;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The proxy's timeouts, checked together: one daemon thread asks every registered entry,
 * once a tick, whether something of it is due (an upstream answer silent for its idle
 * timeout, a client connection to probe). Adding and removing an entry takes no lock and
 * wakes no thread, so a request pays a set insertion for its timeouts. (A timer per read
 * or per request in a {@link ScheduledThreadPoolExecutor} took its queue's lock and woke
 * its thread each time: about 1.3 context switches per request, docs/benchmarks.md.) What
 * falls due is found within one tick.
 */
final class Sweeper implements AutoCloseable {

	/** The longest tick: how late an idle timeout may be found. */
	static final Duration MAX_TICK = Duration.ofMillis(100);

	private static final Logger logger = LoggerFactory.getLogger(Sweeper.class);

	private final Set<Entry> entries = ConcurrentHashMap.newKeySet();

	private final ScheduledThreadPoolExecutor thread;

	/**
	 * Starts the sweeping thread.
	 * @param name the thread's name
	 * @param tick how often the entries are checked
	 */
	Sweeper(String name, Duration tick) {
		this.thread = new ScheduledThreadPoolExecutor(1, Thread.ofPlatform().daemon().name(name).factory());
		long nanos = Math.max(tick.toNanos(), TimeUnit.MILLISECONDS.toNanos(1));
		this.thread.scheduleWithFixedDelay(() -> sweep(System.nanoTime()), nanos, nanos, TimeUnit.NANOSECONDS);
	}

	/**
	 * The tick for the proxy: {@link #MAX_TICK}, or the client probe interval when that
	 * is shorter.
	 * @param probeInterval how often client connections are probed
	 * @return the tick
	 */
	static Duration tickFor(Duration probeInterval) {
		return (probeInterval.compareTo(MAX_TICK) < 0) ? probeInterval : MAX_TICK;
	}

	/**
	 * Checks the entry every tick until it is removed.
	 * @param entry what to check
	 */
	void add(Entry entry) {
		this.entries.add(entry);
	}

	/**
	 * Stops checking the entry (a check in progress may still finish).
	 * @param entry what to stop checking
	 */
	void remove(Entry entry) {
		this.entries.remove(entry);
	}

	/**
	 * How many entries are checked.
	 * @return the count
	 */
	int size() {
		return this.entries.size();
	}

	/**
	 * Checks every entry once (the sweeping thread's work; tests call it with their own
	 * time).
	 * @param nowNanos the time of this sweep, on {@link System#nanoTime()}'s scale
	 */
	void sweep(long nowNanos) {
		for (Entry entry : this.entries) {
			try {
				entry.check(nowNanos);
			}
			catch (RuntimeException ex) {
				logger.warn("A timeout check failed; it is tried again next tick", ex);
			}
		}
	}

	@Override
	public void close() {
		this.thread.shutdownNow();
	}

	/** Something checked every tick. */
	interface Entry {

		/**
		 * Acts on what is due.
		 * @param nowNanos the time of this sweep, on {@link System#nanoTime()}'s scale
		 */
		void check(long nowNanos);

	}

}
