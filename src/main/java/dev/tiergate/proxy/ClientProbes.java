package dev.tiergate.proxy;

import java.time.Duration;

/**
 * Probes the connections of online requests at a fixed interval while they wait for a
 * slot and while their answer is computed, and calls the request's action (abandon it)
 * when its client has gone. The probes run on the proxy's {@link Sweeper}; a probe is one
 * non-blocking read, the first one interval after the request began watching.
 */
final class ClientProbes {

	private final long intervalNanos;

	private final Sweeper sweeper;

	ClientProbes(Duration interval, Sweeper sweeper) {
		this.intervalNanos = interval.toNanos();
		this.sweeper = sweeper;
	}

	/**
	 * Probes a connection until the returned probe is closed.
	 * @param connection the client's connection
	 * @param gone what to do, once, when the client has gone
	 * @return the probe; close it before anything more is written to the client
	 */
	Probe watch(ClientConnection connection, Runnable gone) {
		Probe probe = new Probe(connection, gone, this.sweeper, System.nanoTime() + this.intervalNanos,
				this.intervalNanos);
		this.sweeper.add(probe);
		return probe;
	}

	/** One request's probe. */
	static final class Probe implements Sweeper.Entry, AutoCloseable {

		private final ClientConnection connection;

		private final Runnable gone;

		private final Sweeper sweeper;

		private final long intervalNanos;

		/** When the next probe is due; only the sweeping thread reads and writes it. */
		private long due;

		/**
		 * Whether the client was found gone (only the sweeping thread reads and writes
		 * it).
		 */
		private boolean fired;

		Probe(ClientConnection connection, Runnable gone, Sweeper sweeper, long firstDue, long intervalNanos) {
			this.connection = connection;
			this.gone = gone;
			this.sweeper = sweeper;
			this.due = firstDue;
			this.intervalNanos = intervalNanos;
		}

		@Override
		public void check(long nowNanos) {
			if (this.fired || nowNanos - this.due < 0) {
				return;
			}
			this.due = nowNanos + this.intervalNanos;
			if (!this.connection.gone()) {
				return;
			}
			this.fired = true;
			this.sweeper.remove(this);
			this.gone.run();
		}

		@Override
		public void close() {
			this.sweeper.remove(this);
			// Waits for a probe in progress; none finds the client gone after this.
			this.connection.answering();
		}

	}

}
