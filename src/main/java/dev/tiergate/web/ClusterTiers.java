package dev.tiergate.web;

import java.util.List;
import java.util.Map;

import dev.tiergate.cluster.PriorityClasses;
import dev.tiergate.tier.Tier;
import dev.tiergate.tier.TierDefinition;
import dev.tiergate.tier.Tiers;

/**
 * Joins the tier definitions (dispatch) to the cluster's PriorityClasses.
 */
final class ClusterTiers {

	private ClusterTiers() {
	}

	/**
	 * The tier whose PriorityClass has this name.
	 * @param tiers the tier definitions
	 * @param priorityClass a class name
	 * @return {@code P0}..., or {@code null} if no tier uses the class
	 */
	static String tierOf(Tiers tiers, String priorityClass) {
		for (Map.Entry<Tier, TierDefinition> entry : tiers.all().entrySet()) {
			if (entry.getValue().priorityClass().name().equals(priorityClass)) {
				return entry.getKey().name();
			}
		}
		return null;
	}

	/**
	 * The classes the tier definitions call for, never global default unless asked
	 * elsewhere.
	 * @param tiers the tier definitions
	 * @return one class per tier, P0 first
	 */
	static List<PriorityClasses.Spec> desired(Tiers tiers) {
		return tiers.all().entrySet().stream().map((entry) -> {
			TierDefinition.PriorityClassSpec pc = entry.getValue().priorityClass();
			return new PriorityClasses.Spec(pc.name(), pc.value(), pc.preemptionPolicy(), null,
					"Tiergate tier " + entry.getKey().name(), entry.getKey().name());
		}).toList();
	}

}
