package dev.tiergate.proxy;

import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Probes the connections of online requests at a fixed interval while they wait for a
 * slot and while their answer is computed, and calls the request's action (abandon it)
 * when its client has gone. One daemon thread; a probe is one non-blocking read.
 */
final class ClientProbes implements AutoCloseable {

	private final ScheduledThreadPoolExecutor executor;

	private final long intervalNanos;

	ClientProbes(Duration interval) {
		this.intervalNanos = interval.toNanos();
		this.executor = new ScheduledThreadPoolExecutor(1,
				Thread.ofPlatform().daemon().name("client-probes").factory());
		this.executor.setRemoveOnCancelPolicy(true);
	}

	/**
	 * Probes a connection until the returned probe is closed.
	 * @param connection the client's connection
	 * @param gone what to do, once, when the client has gone
	 * @return the probe; close it before anything more is written to the client
	 */
	Probe watch(ClientConnection connection, Runnable gone) {
		Probe probe = new Probe(connection, gone);
		probe.future = this.executor.scheduleWithFixedDelay(probe, this.intervalNanos, this.intervalNanos,
				TimeUnit.NANOSECONDS);
		return probe;
	}

	@Override
	public void close() {
		this.executor.shutdownNow();
	}

	/** One request's probe. */
	static final class Probe implements Runnable, AutoCloseable {

		private final ClientConnection connection;

		private final Runnable gone;

		private volatile ScheduledFuture<?> future;

		private volatile boolean fired;

		Probe(ClientConnection connection, Runnable gone) {
			this.connection = connection;
			this.gone = gone;
		}

		@Override
		public void run() {
			if (this.fired || !this.connection.gone()) {
				return;
			}
			this.fired = true;
			ScheduledFuture<?> future = this.future;
			if (future != null) {
				future.cancel(false);
			}
			this.gone.run();
		}

		/**
		 * Whether the client was found gone.
		 * @return {@code true} once the action ran
		 */
		boolean fired() {
			return this.fired;
		}

		@Override
		public void close() {
			ScheduledFuture<?> future = this.future;
			if (future != null) {
				future.cancel(false);
			}
			// Waits for a probe in progress; none starts after this.
			this.connection.answering();
		}

	}

}
