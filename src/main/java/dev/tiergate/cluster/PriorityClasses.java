package dev.tiergate.cluster;

import java.util.List;

import dev.tiergate.tier.TierDefinition;
import dev.tiergate.tier.Tiers;

/**
 * The cluster's PriorityClasses. All are listed; Tiergate changes only the ones it
 * manages (label {@code app.kubernetes.io/managed-by=tiergate}), never {@code system-}
 * classes. Every change is recorded in the audit log.
 */
public interface PriorityClasses {

	/** The label that marks a class Tiergate manages. */
	String MANAGED_BY = "app.kubernetes.io/managed-by";

	/** The value of {@link #MANAGED_BY} on classes Tiergate manages. */
	String TIERGATE = "tiergate";

	/** The label naming the tier a managed class carries. */
	String TIER_LABEL = "tiergate.dev/tier";

	/** Largest value of a user-defined PriorityClass. */
	long MAX_VALUE = 1_000_000_000L;

	/**
	 * Every class, with the number of pods (not finished) that use it.
	 * @return classes sorted by value, highest first
	 */
	List<Info> list();

	/**
	 * Creates or updates a managed class. A change of value or preemption policy, which
	 * Kubernetes does not allow in place, replaces the class.
	 * @param spec the class
	 * @return the class now
	 * @throws InvalidClusterChangeException if a field breaks a rule
	 * @throws ClusterConflictException if the class is read-only or would be a second
	 * global default
	 */
	Info put(Spec spec);

	/**
	 * Deletes a managed class that no pod uses.
	 * @param name the class
	 * @throws ClusterConflictException if it is read-only or pods use it (listed)
	 * @throws ClusterObjectNotFoundException if there is no such class
	 */
	void delete(String name);

	/**
	 * Makes the managed classes match the given ones: creates what is missing, updates
	 * what differs, leaves the rest. Nothing changes if any of them exists and is not
	 * managed by Tiergate.
	 * @param desired one class per tier
	 * @return per class, what was done
	 * @throws ClusterConflictException if a desired class exists unmanaged or is a
	 * {@code system-} class
	 */
	List<SyncChange> sync(List<Spec> desired);

	/**
	 * Pods (not finished) that use a class.
	 * @param name the class
	 * @return {@code namespace/name} of each, sorted
	 */
	List<String> podsUsing(String name);

	/**
	 * A class as it is in the cluster.
	 *
	 * @param name class name
	 * @param value priority value
	 * @param preemptionPolicy {@code PreemptLowerPriority} or {@code Never}
	 * @param globalDefault whether pods without a class get this one
	 * @param description its description
	 * @param managed whether Tiergate manages it
	 * @param readOnly whether Tiergate refuses to change it ({@code system-} or not
	 * managed)
	 * @param tierLabel the value of {@value #TIER_LABEL}, or {@code ""}
	 * @param pods how many pods (not finished) use it
	 */
	record Info(String name, long value, String preemptionPolicy, boolean globalDefault, String description,
			boolean managed, boolean readOnly, String tierLabel, int pods) {
	}

	/**
	 * A class Tiergate should manage.
	 *
	 * @param name class name
	 * @param value priority value, at most 1,000,000,000
	 * @param preemptionPolicy {@code PreemptLowerPriority} or {@code Never}
	 * @param globalDefault {@code true} to make it the global default (only if no other
	 * class is), {@code null} to keep what the class has (new classes: no)
	 * @param description description, or {@code null}
	 * @param tier the tier it carries, or {@code null}
	 */
	record Spec(String name, long value, String preemptionPolicy, Boolean globalDefault, String description,
			String tier) {

		/**
		 * The classes the tier definitions call for, never a global default.
		 * @param tiers the tier definitions
		 * @return one class per tier, P0 first
		 */
		public static List<Spec> forTiers(Tiers tiers) {
			return tiers.all().entrySet().stream().map((entry) -> {
				TierDefinition.PriorityClassSpec pc = entry.getValue().priorityClass();
				return new Spec(pc.name(), pc.value(), pc.preemptionPolicy(), null,
						"Tiergate tier " + entry.getKey().name(), entry.getKey().name());
			}).toList();
		}

	}

	/**
	 * What a sync did to one class.
	 *
	 * @param name class name
	 * @param action {@code created}, {@code updated}, {@code replaced} or
	 * {@code unchanged}
	 */
	record SyncChange(String name, String action) {
	}

}
