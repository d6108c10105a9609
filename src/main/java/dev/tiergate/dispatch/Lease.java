package dev.tiergate.dispatch;

/**
 * One ticket holding one slot on one endpoint.
 */
public final class Lease {

	final long id;

	final Ticket ticket;

	final PoolScheduler.EndpointSlot endpoint;

	final boolean borrowed;

	/** The endpoint's attachment when the lease was granted. */
	private final Object attachment;

	final long startSeq;

	final long startNanos;

	boolean sent;

	boolean active = true;

	boolean preemptible;

	/** How the scheduler counts it: 0 in the shared accounting, else HOME or GUEST. */
	int zone;

	// lease list links
	Lease prev;

	Lease next;

	int list = -1;

	Lease(long id, Ticket ticket, PoolScheduler.EndpointSlot endpoint, boolean borrowed, long startSeq, long startNanos,
			boolean preemptible) {
		this.id = id;
		this.ticket = ticket;
		this.endpoint = endpoint;
		this.attachment = endpoint.attachment;
		this.borrowed = borrowed;
		this.startSeq = startSeq;
		this.startNanos = startNanos;
		this.preemptible = preemptible;
	}

	/**
	 * Lease id, unique within its pool.
	 * @return the id
	 */
	public long id() {
		return this.id;
	}

	/**
	 * The ticket holding it.
	 * @return the ticket
	 */
	public Ticket ticket() {
		return this.ticket;
	}

	/**
	 * The endpoint id.
	 * @return endpoint id
	 */
	public String endpointId() {
		return this.endpoint.id;
	}

	/**
	 * The endpoint's attachment (the live runtime's routing endpoint) as it was when the
	 * lease was granted: a pod of the same name that returns while this lease drains is
	 * another endpoint, whose in-flight count this lease must not touch.
	 * @return the attachment
	 */
	public Object endpointAttachment() {
		return this.attachment;
	}

	/**
	 * Whether it runs on a slot reserved for another tier, to be given back when that
	 * tier needs it.
	 * @return {@code true} when borrowed
	 */
	public boolean borrowed() {
		return this.borrowed;
	}

	/**
	 * Whether it may be preempted.
	 * @return {@code true} when preemptible
	 */
	public boolean preemptible() {
		return this.preemptible;
	}

	/**
	 * Whether it still holds its slot.
	 * @return {@code false} once finished or preempted
	 */
	public boolean active() {
		return this.active;
	}

	/**
	 * Whether its request has sent anything to its client.
	 * @return {@code true} once marked sent
	 */
	public boolean sent() {
		return this.sent;
	}

	/**
	 * When it started, on the scheduler's clock.
	 * @return nanos
	 */
	public long startNanos() {
		return this.startNanos;
	}

}
