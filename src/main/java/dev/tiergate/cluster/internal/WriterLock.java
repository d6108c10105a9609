package dev.tiergate.cluster.internal;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

import dev.tiergate.cluster.ClusterUnavailableException;
import dev.tiergate.cluster.Leadership;
import io.kubernetes.client.openapi.ApiClient;

/**
 * One writer's changes one at a time (each reads, then writes what it read: the sharing
 * ConfigMap, the PriorityClasses), with a bounded wait instead of a monitor: a change
 * that has waited half of what one API call may take gives up with 503 and
 * {@code Retry-After} (the change in progress, its calls bounded by the client's
 * timeouts, ends on its own), so a call the API server does not answer holds no other
 * change for longer. Writers of different kinds never wait for each other.
 */
final class WriterLock {

	private final ReentrantLock lock = new ReentrantLock();

	private final String what;

	private final long waitNanos;

	private final Leadership leadership;

	/**
	 * A lock whose waiters give up after half the client's read timeout (its longest
	 * call), or wait as long as it takes when the client has none.
	 * @param what what the writer changes, for messages
	 * @param client the writer's client
	 * @param leadership whether this replica may write
	 */
	WriterLock(String what, ApiClient client, Leadership leadership) {
		this.what = what;
		this.waitNanos = Duration.ofMillis(client.getReadTimeout()).toNanos() / 2;
		this.leadership = leadership;
	}

	<T> T run(Supplier<T> change) {
		this.leadership.requireLeader("changing " + this.what);
		boolean locked;
		try {
			if (this.waitNanos > 0) {
				locked = this.lock.tryLock(this.waitNanos, TimeUnit.NANOSECONDS);
			}
			else {
				this.lock.lockInterruptibly();
				locked = true;
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new ClusterUnavailableException("Interrupted while waiting to change " + this.what, 0, ex);
		}
		if (!locked) {
			throw new ClusterUnavailableException(
					"Another change to " + this.what + " is still waiting for the Kubernetes API; try again", 0, null);
		}
		try {
			this.leadership.requireLeader("changing " + this.what);
			return change.get();
		}
		finally {
			this.lock.unlock();
		}
	}

	void run(Runnable change) {
		run(() -> {
			change.run();
			return null;
		});
	}

}
