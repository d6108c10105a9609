package dev.tiergate.dispatch;

import java.util.List;
import java.util.Map;

import dev.tiergate.tier.Tier;

/**
 * One pool as slot ownership across replicas sees it: this replica's demand per tier and,
 * per endpoint, its slots, what this replica is granted of them and how many it uses.
 *
 * @param pool the pool (model)
 * @param demand per tier, requests waiting plus requests holding a slot
 * @param endpoints the pool's endpoints, and any endpoint gone from the registry that
 * still carries this replica's leases, by key
 */
public record SlotUse(String pool, Map<Tier, Integer> demand, List<EndpointUse> endpoints) {

	public SlotUse {
		demand = Map.copyOf(demand);
		endpoints = List.copyOf(endpoints);
	}

	/**
	 * One endpoint.
	 *
	 * @param key the endpoint's key
	 * @param slots all its slots while it accepts requests, else 0
	 * @param granted the slots this replica may use ({@link #slots()} when slots are not
	 * shared)
	 * @param used this replica's leases on it
	 */
	public record EndpointUse(String key, int slots, int granted, int used) {

	}

}
