package dev.tiergate.dispatch;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import dev.tiergate.routing.Endpoint;
import dev.tiergate.tier.Tier;

/**
 * One request's passage through the dispatcher, as its serving thread sees it: wait for a
 * slot, run on it, give it back. A preempted request that had sent nothing waits again;
 * closing the admission ends it whatever state it is in, exactly once.
 */
public final class Admission implements AutoCloseable {

	private final DispatchRuntime.PoolRuntime pool;

	/** Its ticket; a new one after {@link #rejoin()}. Used by the serving thread only. */
	private Ticket ticket;

	/** Set by {@link #stepOut()}, cleared by {@link #rejoin()}. */
	private boolean out;

	private final Thread waiter;

	/**
	 * The pool's last decision for this request (a {@link Running} lease or a
	 * {@link RejectReason}), handed over atomically: taken with one {@code getAndSet}, so
	 * a decision that lands while the waiter takes the previous one is never cleared
	 * unseen.
	 */
	private final AtomicReference<Object> outcome = new AtomicReference<>();

	/** How often the waiting thread woke without a decision (for tests). */
	volatile int idleWakeups;

	private volatile Running running;

	/** Set by {@link #abandon()}: the client has gone. */
	private volatile boolean abandoned;

	/** The lease last granted, set by the pool under its lock. */
	volatile Running current;

	/** Runs on {@link #abandon()} while the request is served off the fleet. */
	private volatile Runnable onAbandon;

	private boolean closed;

	Admission(DispatchRuntime.PoolRuntime pool, Ticket ticket) {
		this.pool = pool;
		this.ticket = ticket;
		this.waiter = Thread.currentThread();
		ticket.attach(this);
	}

	/**
	 * The tier.
	 * @return tier
	 */
	public Tier tier() {
		return this.ticket.tier();
	}

	// Called by the pool under its lock.
	void offer(Object outcome) {
		this.outcome.set(outcome);
		LockSupport.unpark(this.waiter);
	}

	/**
	 * Waits until the request holds a slot or is turned away.
	 * @return the lease to run on
	 * @throws Rejected when it will not be served
	 * @throws Abandoned when the request was {@link #abandon() abandoned} (its client
	 * left)
	 * @throws InterruptedException if the thread is interrupted while waiting
	 */
	public Running awaitSlot() throws Rejected, InterruptedException {
		return awaitSlot(Long.MAX_VALUE);
	}

	/**
	 * Waits at most {@code limit} for a slot; the request stays queued when none came.
	 * With a zero limit it takes only what the dispatcher decided at once: a free slot,
	 * or one it preempted for the request.
	 * @param limit the longest wait
	 * @return the lease to run on, or {@code null} when the limit passed first
	 * @throws Rejected when it will not be served
	 * @throws Abandoned when the request was {@link #abandon() abandoned}
	 * @throws InterruptedException if the thread is interrupted while waiting
	 */
	public Running awaitSlot(Duration limit) throws Rejected, InterruptedException {
		// Measured on the pool's clock, as the distance left to the ticket's deadline.
		return awaitSlot(this.pool.nanosUntilDeadline(this.ticket) - limit.toNanos());
	}

	private Running awaitSlot(long giveUpAtNanosBeforeDeadline) throws Rejected, InterruptedException {
		while (true) {
			if (this.abandoned) {
				// A lease granted meanwhile is freed by close(), like the ticket.
				throw new Abandoned();
			}
			Object current = this.outcome.getAndSet(null);
			if (current instanceof Running lease) {
				this.running = lease;
				return lease;
			}
			if (current instanceof RejectReason reason) {
				this.outcome.compareAndSet(null, reason);
				throw new Rejected(reason, this.pool.retryAfter());
			}
			long waitNanos = this.pool.nanosUntilDeadline(this.ticket);
			if (giveUpAtNanosBeforeDeadline != Long.MAX_VALUE && waitNanos > 0) {
				long left = waitNanos - giveUpAtNanosBeforeDeadline;
				if (left <= 0) {
					return null;
				}
				waitNanos = Math.min(waitNanos, left);
			}
			if (waitNanos <= 0 && this.pool.expire(this.ticket)) {
				// Still queued past its deadline cannot happen after expire(); a ticket
				// that
				// is not queued (dispatched, its lease on the way) waits for the decision
				// without a timeout.
				continue;
			}
			if (this.outcome.get() == null) {
				if (waitNanos > 0) {
					// Exactly until the deadline: a decision unparks the thread earlier.
					LockSupport.parkNanos(this, waitNanos);
				}
				else {
					LockSupport.park(this);
				}
				if (this.outcome.get() == null && this.pool.nanosUntilDeadline(this.ticket) > 0) {
					this.idleWakeups++;
				}
			}
			if (Thread.interrupted()) {
				throw new InterruptedException();
			}
		}
	}

	/**
	 * The client has gone: a thread waiting in {@link #awaitSlot()} wakes and gets
	 * {@link Abandoned}, an upstream call running on the slot is aborted (the action
	 * registered with {@link Running#onPreempt} runs, and {@link Running#abandoned()}
	 * tells why). Safe to call from any thread, more than once; the serving thread still
	 * closes the admission, which frees the slot or takes the ticket out of the queue.
	 */
	public void abandon() {
		this.abandoned = true;
		LockSupport.unpark(this.waiter);
		Running lease = this.current;
		if (lease != null) {
			lease.abandon();
		}
		Runnable action = this.onAbandon;
		if (action != null) {
			action.run();
		}
	}

	/**
	 * What to do when the client goes while the request is served off the fleet (a hosted
	 * call after {@link #stepOut()}): abort that call. Runs at once if the client has
	 * already gone.
	 * @param action the action, or {@code null} to remove it once that call has ended
	 */
	public void onAbandon(Runnable action) {
		this.onAbandon = action;
		if (action != null && this.abandoned) {
			action.run();
		}
	}

	/**
	 * Whether {@link #abandon()} was called.
	 * @return {@code true} once the client has gone
	 */
	public boolean abandoned() {
		return this.abandoned;
	}

	/**
	 * The request failed on its endpoint before anything reached its client: gives the
	 * slot back and puts the request at the head of its tier to run again, on another
	 * endpoint when one has room. Then wait with {@link #awaitSlot()} again. Does nothing
	 * if the slot was already taken away (the request then waits anyway).
	 */
	public void retryElsewhere() {
		Running current = this.running;
		if (current != null) {
			this.running = null;
			this.pool.retry(current.lease);
		}
	}

	/**
	 * The request leaves the fleet's queue (a slot granted meanwhile is given back) while
	 * it is tried elsewhere, a hosted upstream; {@link #rejoin()} puts it back with the
	 * deadline it had. Safe to call more than once.
	 */
	public void stepOut() {
		if (this.closed || this.out) {
			return;
		}
		this.out = true;
		this.pool.end(this.ticket);
		// No decision for the old ticket can land after end(): it ran under the lock.
		this.outcome.set(null);
		this.running = null;
		this.current = null;
	}

	/**
	 * Puts a request that {@link #stepOut() stepped out} back in its tier's queue, at the
	 * back, to wait for the fleet until the deadline it had when it left (its tier's
	 * {@code maxQueueWait} from its arrival); past that deadline it is turned away with
	 * {@link RejectReason#QUEUE_TIMEOUT} at once. Then wait with {@link #awaitSlot()}.
	 * Does nothing unless it stepped out.
	 */
	public void rejoin() {
		if (this.closed || !this.out) {
			return;
		}
		this.out = false;
		Ticket left = this.ticket;
		Ticket again = new Ticket(left.tenant, left.tier, left.cost, left.weight, left.affinityKey);
		// A ticket that never queued (dispatched or turned away at once) has no deadline
		// of its own yet: then its tier's whole wait applies.
		again.deadlineLimitNanos = (left.deadlineNanos != 0) ? left.deadlineNanos : Long.MAX_VALUE;
		again.attach(this);
		this.ticket = again;
		this.pool.submit(again);
	}

	/**
	 * Ends the request: frees its slot, or takes it out of the queue. Safe to call more
	 * than once.
	 */
	@Override
	public void close() {
		if (this.closed) {
			return;
		}
		this.closed = true;
		this.pool.end(this.ticket);
	}

	/**
	 * The slot a request runs on.
	 */
	public static final class Running {

		final Lease lease;

		final Duration queued;

		private final Endpoint endpoint;

		private volatile Runnable abort;

		private volatile boolean preempted;

		private volatile boolean requeued;

		private volatile boolean abandoned;

		Running(Lease lease, Duration queued) {
			this.lease = lease;
			this.queued = queued;
			this.endpoint = (Endpoint) lease.endpointAttachment();
		}

		/**
		 * The endpoint to send to, as it was when the slot was granted.
		 * @return the endpoint
		 */
		public Endpoint endpoint() {
			return this.endpoint;
		}

		/**
		 * How long it waited for this slot.
		 * @return the wait
		 */
		public Duration queued() {
			return this.queued;
		}

		/**
		 * Whether the slot was taken away by a more urgent request.
		 * @return {@code true} once preempted
		 */
		public boolean preempted() {
			return this.preempted;
		}

		/**
		 * Whether, having been preempted, the request waits again for a slot (it had sent
		 * nothing).
		 * @return {@code true} when requeued
		 */
		public boolean requeued() {
			return this.requeued;
		}

		/**
		 * Registers how to stop the upstream call if the slot is taken away (abort the
		 * HTTP exchange). If it was taken away already, the action runs at once.
		 * @param abort the action
		 */
		public void onPreempt(Runnable abort) {
			this.abort = abort;
			if (this.preempted || this.abandoned) {
				abort.run();
			}
		}

		/**
		 * Whether the request's client has gone (see {@link Admission#abandon()}); the
		 * upstream call was aborted for that reason, not a fault of the endpoint.
		 * @return {@code true} once abandoned
		 */
		public boolean abandoned() {
			return this.abandoned;
		}

		void abandon() {
			this.abandoned = true;
			runAbort();
		}

		void preempt(boolean requeued) {
			this.requeued = requeued;
			this.preempted = true;
		}

		void runAbort() {
			Runnable action = this.abort;
			if (action != null) {
				action.run();
			}
		}

	}

	/**
	 * The request was abandoned while it waited: its client has gone. Unchecked, as only
	 * a caller that calls {@link Admission#abandon()} meets it.
	 */
	public static final class Abandoned extends RuntimeException {

		Abandoned() {
			super("client gone", null, false, false);
		}

	}

	/**
	 * The request will not be served.
	 */
	public static final class Rejected extends Exception {

		private final RejectReason reason;

		private final Duration retryAfter;

		Rejected(RejectReason reason, Duration retryAfter) {
			super(reason.code(), null, false, false);
			this.reason = reason;
			this.retryAfter = retryAfter;
		}

		/**
		 * Why.
		 * @return the reason
		 */
		public RejectReason reason() {
			return this.reason;
		}

		/**
		 * When trying again makes sense.
		 * @return the delay
		 */
		public Duration retryAfter() {
			return this.retryAfter;
		}

	}

}
