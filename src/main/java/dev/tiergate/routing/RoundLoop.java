package dev.tiergate.routing;

import java.time.Duration;

import org.slf4j.Logger;

/**
 * A round of work repeated on a virtual thread of its own, a fixed pause after each: what
 * the scraping loops off the request path share ({@link RoutingMaintenance}, the DCGM
 * scraping). A round that throws is logged and the next one runs as planned; stopping
 * interrupts the pause. Thread-safe.
 */
public final class RoundLoop {

	private final String name;

	private final Duration pause;

	private final Runnable round;

	private final Logger logger;

	private volatile Thread loop;

	/**
	 * A loop, not started.
	 * @param name the thread's name, and the log's word for a round
	 * @param pause the pause after each round
	 * @param round the round
	 * @param logger where a failed round is logged
	 */
	public RoundLoop(String name, Duration pause, Runnable round, Logger logger) {
		this.name = name;
		this.pause = pause;
		this.round = round;
		this.logger = logger;
	}

	/**
	 * Starts the rounds, unless they run already.
	 */
	public synchronized void start() {
		if (this.loop != null) {
			return;
		}
		this.loop = Thread.ofVirtual().name(this.name).start(() -> {
			while (!Thread.currentThread().isInterrupted()) {
				try {
					this.round.run();
				}
				catch (RuntimeException ex) {
					this.logger.warn("{} round failed: {}", this.name, ex.toString());
				}
				try {
					Thread.sleep(this.pause);
				}
				catch (InterruptedException ex) {
					return;
				}
			}
		});
	}

	/**
	 * Stops after the round in progress, if any.
	 */
	public synchronized void stop() {
		Thread thread = this.loop;
		this.loop = null;
		if (thread != null) {
			thread.interrupt();
		}
	}

	/**
	 * Whether started and not stopped.
	 * @return whether running
	 */
	public boolean isRunning() {
		return this.loop != null;
	}

}
