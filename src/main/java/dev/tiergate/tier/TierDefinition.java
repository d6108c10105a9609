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
 */
public record TierDefinition(double reservedShare, int maxQueueDepth, Duration maxQueueWait, Set<Tier> mayPreempt,
		boolean borrow, PriorityClassSpec priorityClass) {

	public TierDefinition {
		mayPreempt = Set.copyOf(mayPreempt);
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
