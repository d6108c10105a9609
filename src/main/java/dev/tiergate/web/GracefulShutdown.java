package dev.tiergate.web;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

import dev.tiergate.dispatch.DispatchRuntime;

/**
 * The first step of a replica's shutdown (SIGTERM): readiness goes down
 * ({@code REFUSING_TRAFFIC}, so {@code /readyz} answers 503), the replica keeps serving
 * for {@code tiergate.shutdown.drain-delay} while Kubernetes takes it out of the Service,
 * then every request still waiting for a slot is answered 503 {@code shutting_down} with
 * {@code Retry-After} (batch items waiting are handed back to their stream). From the
 * start of the drain every answer closes its connection ({@link ClosingConnections}), so
 * that keep-alive clients reconnect through the Service. Then the web server's graceful
 * shutdown lets running requests finish within
 * {@code spring.lifecycle.timeout-per-shutdown-phase}, and the leader election releases
 * the Lease.
 */
@Component
class GracefulShutdown implements SmartLifecycle {

	private static final Logger logger = LoggerFactory.getLogger(GracefulShutdown.class);

	private final ApplicationEventPublisher events;

	private final DispatchRuntime dispatch;

	private final ShutdownProperties properties;

	private final ClosingConnections connections;

	private volatile boolean running;

	GracefulShutdown(ApplicationEventPublisher events, DispatchRuntime dispatch, ShutdownProperties properties,
			ClosingConnections connections) {
		this.events = events;
		this.dispatch = dispatch;
		this.properties = properties;
		this.connections = connections;
	}

	@Override
	public void start() {
		this.running = true;
	}

	@Override
	public void stop() {
		if (!this.running) {
			return;
		}
		this.running = false;
		AvailabilityChangeEvent.publish(this.events, this, ReadinessState.REFUSING_TRAFFIC);
		this.connections.drain();
		long drain = this.properties.drainDelay().toMillis();
		if (drain > 0) {
			logger.info("Shutting down: readiness is down, serving {} ms more while the Service drops this replica",
					drain);
			try {
				// The one wait here is the point: keep serving while endpoints update.
				Thread.sleep(drain);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}
		this.dispatch.rejectWaiting();
		logger.info("Shutting down: requests waiting for a slot were answered 503; running ones may finish");
	}

	@Override
	public boolean isRunning() {
		return this.running;
	}

	/**
	 * Stops before the web server's graceful shutdown ({@code DEFAULT_PHASE - 1024}).
	 * @return the phase
	 */
	@Override
	public int getPhase() {
		return SmartLifecycle.DEFAULT_PHASE - 512;
	}

}
