package dev.tiergate.tier;

import java.time.Duration;
import java.util.Set;

/**
 * Everything one tier means, across the three layers.
 *
 * @param reservedShare share of each pool's slots kept for this tier, in [0,1]
 * @param maxQueueDepth most requests of this tier that may wait in one pool; beyond it
 * the tier sheds load
 * @param maxQueueWait longest a request of this tier waits for a slot before it is
 * rejected ({@code queue_timeout})
 * @param mayPreempt lower tiers whose running requests this tier may preempt when no slot
 * is free
 * @param borrow whether this tier may run on idle slots reserved for other tiers, as
 * preemptible leases
 * @param priorityClass the Kubernetes PriorityClass of this tier's pods
 * @param reservePlacement where the reserved share lives: slots spread over every
 * endpoint, or whole endpoints of the tier's own
 * @param borrowPerEndpoint with {@link ReservePlacement#ENDPOINTS}, the most sequences of
 * lower tiers that may run on each of the tier's endpoints, 0 or more
 */
public record TierDefinition(double reservedShare, int maxQueueDepth, Duration maxQueueWait, Set<Tier> mayPreempt,
		boolean borrow, PriorityClassSpec priorityClass, ReservePlacement reservePlacement, int borrowPerEndpoint) {

	/** Lower-tier sequences allowed on each endpoint of a tier's own, by default. */
	public static final int DEFAULT_BORROW_PER_ENDPOINT = 2;

	public TierDefinition {
		mayPreempt = Set.copyOf(mayPreempt);
		reservePlacement = (reservePlacement != null) ? reservePlacement : ReservePlacement.SLOTS;
	}

	/**
	 * A definition whose reserve is spread over slots.
	 * @param reservedShare share of each pool's slots kept for this tier
	 * @param maxQueueDepth most waiting requests per pool
	 * @param maxQueueWait longest wait for a slot
	 * @param mayPreempt lower tiers it may preempt
	 * @param borrow whether it may borrow idle reserved slots
	 * @param priorityClass its PriorityClass
	 */
	public TierDefinition(double reservedShare, int maxQueueDepth, Duration maxQueueWait, Set<Tier> mayPreempt,
			boolean borrow, PriorityClassSpec priorityClass) {
		this(reservedShare, maxQueueDepth, maxQueueWait, mayPreempt, borrow, priorityClass, ReservePlacement.SLOTS,
				DEFAULT_BORROW_PER_ENDPOINT);
	}

	/**
	 * The same definition with another reserve placement.
	 * @param placement where the reserve lives
	 * @param borrowPerEndpoint lower-tier sequences allowed on each own endpoint
	 * @return the definition
	 */
	public TierDefinition withPlacement(ReservePlacement placement, int borrowPerEndpoint) {
		return new TierDefinition(this.reservedShare, this.maxQueueDepth, this.maxQueueWait, this.mayPreempt,
				this.borrow, this.priorityClass, placement, borrowPerEndpoint);
	}

	/**
	 * The same definition with another reserved share.
	 * @param share the share
	 * @return the definition
	 */
	public TierDefinition withReservedShare(double share) {
		return new TierDefinition(share, this.maxQueueDepth, this.maxQueueWait, this.mayPreempt, this.borrow,
				this.priorityClass, this.reservePlacement, this.borrowPerEndpoint);
	}

	/**
	 * The PriorityClass that carries a tier to the Kubernetes scheduler.
	 *
	 * @param name class name
	 * @param value priority value (higher schedules first), at most 1,000,000,000
	 * @param preemptionPolicy {@code PreemptLowerPriority} or {@code Never}
	 */
	public record PriorityClassSpec(String name, long value, String preemptionPolicy) {
	}

}
