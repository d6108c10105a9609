package dev.tiergate.routing;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One slot held on one endpoint. Closing it frees the slot; closing it again does nothing, so every path (success,
 * error, disconnect, preemption) may close it without counting twice.
 */
public final class EndpointLease implements AutoCloseable {

	private final Endpoint endpoint;

	private final Runnable onRelease;

	private final AtomicBoolean released = new AtomicBoolean();

	EndpointLease(Endpoint endpoint, Runnable onRelease) {
		this.endpoint = endpoint;
		this.onRelease = onRelease;
	}

	/**
	 * The endpoint the slot is on.
	 * @return the endpoint
	 */
	public Endpoint endpoint() {
		return this.endpoint;
	}

	/**
	 * Whether the slot has been freed.
	 * @return {@code true} once closed
	 */
	public boolean released() {
		return this.released.get();
	}

	@Override
	public void close() {
		if (this.released.compareAndSet(false, true)) {
			this.endpoint.release();
			this.onRelease.run();
		}
	}

}
