package dev.tiergate.dispatch;

import dev.tiergate.tier.Tier;

/**
 * One request as the scheduler sees it: who sends it, at which tier, what it costs. The
 * scheduler links tickets into its queues itself (intrusive lists), so queueing one
 * allocates nothing.
 */
public final class Ticket {

	/** Where a ticket stands. */
	public enum State {

		/** Made, not yet submitted. */
		NEW,

		/** Waiting in its tier's queue. */
		QUEUED,

		/** Holding a lease. */
		RUNNING,

		/** Ended: finished, rejected, cancelled or preempted after it had streamed. */
		DONE

	}

	final String tenant;

	final Tier tier;

	final long cost;

	final int weight;

	final long affinityKey;

	/**
	 * Endpoint id to avoid (the one that failed it before it had sent anything), or
	 * {@code null}.
	 */
	String avoid;

	int preemptionsLeft;

	long arrivalNanos;

	/** When it last joined its queue: its arrival, or when it was requeued or retried. */
	long queuedNanos;

	long deadlineNanos;

	/**
	 * The latest deadline its first wait may have, {@link Long#MAX_VALUE} for none: a
	 * request that stepped out of its queue (to try a hosted upstream) and rejoins keeps
	 * the deadline it had.
	 */
	long deadlineLimitNanos = Long.MAX_VALUE;

	State state = State.NEW;

	Lease lease;

	TenantQueue tenantQueue;

	boolean requeued;

	// tenant queue links
	Ticket prev;

	Ticket next;

	// deadline list links
	Ticket deadlinePrev;

	Ticket deadlineNext;

	private Object attachment;

	/**
	 * A new ticket.
	 * @param tenant tenant id
	 * @param tier tier
	 * @param cost its cost in tokens (prompt estimate + max_tokens), at least 1
	 * @param weight the tenant's fair-share weight within the tier, at least 1
	 */
	public Ticket(String tenant, Tier tier, long cost, int weight) {
		this(tenant, tier, cost, weight, 0);
	}

	/**
	 * A new ticket with an affinity key for the pool's balancing policy.
	 * @param tenant tenant id
	 * @param tier tier
	 * @param cost its cost in tokens (prompt estimate + max_tokens), at least 1
	 * @param weight the tenant's fair-share weight within the tier, at least 1
	 * @param affinityKey a 64-bit hash of a prompt prefix or session, 0 for none
	 */
	public Ticket(String tenant, Tier tier, long cost, int weight, long affinityKey) {
		this.affinityKey = affinityKey;
		this.tenant = tenant;
		this.tier = tier;
		this.cost = Math.max(1, cost);
		this.weight = Math.max(1, weight);
	}

	/**
	 * The tenant.
	 * @return tenant id
	 */
	public String tenant() {
		return this.tenant;
	}

	/**
	 * The tier.
	 * @return tier
	 */
	public Tier tier() {
		return this.tier;
	}

	/**
	 * The cost used for fair sharing.
	 * @return tokens
	 */
	public long cost() {
		return this.cost;
	}

	/**
	 * The affinity key handed to the balancing policy.
	 * @return the key, 0 for none
	 */
	public long affinityKey() {
		return this.affinityKey;
	}

	/**
	 * Where the ticket stands.
	 * @return the state
	 */
	public State state() {
		return this.state;
	}

	/**
	 * Its current lease, while running.
	 * @return the lease or {@code null}
	 */
	public Lease lease() {
		return this.lease;
	}

	/**
	 * How many more times it may be preempted.
	 * @return remaining preemptions
	 */
	public int preemptionsLeft() {
		return this.preemptionsLeft;
	}

	/**
	 * When it arrived, on the scheduler's clock.
	 * @return nanos
	 */
	public long arrivalNanos() {
		return this.arrivalNanos;
	}

	/**
	 * When it last joined its queue: its arrival, or the moment it was requeued after a
	 * preemption or put back for a retry elsewhere.
	 * @return scheduler time in nanoseconds
	 */
	public long queuedNanos() {
		return this.queuedNanos;
	}

	/**
	 * Caller's data (the live runtime keeps its waiter here).
	 * @return the attachment
	 */
	public Object attachment() {
		return this.attachment;
	}

	/**
	 * Sets the caller's data.
	 * @param attachment the attachment
	 */
	public void attach(Object attachment) {
		this.attachment = attachment;
	}

}
