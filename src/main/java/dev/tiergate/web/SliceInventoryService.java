package dev.tiergate.web;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.springframework.stereotype.Component;

import dev.tiergate.cluster.ClusterView;
import dev.tiergate.cluster.SliceInventory;
import dev.tiergate.dispatch.DispatchRuntime;
import dev.tiergate.routing.Endpoint;
import dev.tiergate.routing.EndpointRegistry;
import dev.tiergate.tier.Tier;
import dev.tiergate.tier.Tiers;

/**
 * The slice inventory joined with the dispatcher's view of the endpoints: what
 * {@code /api/v1/slices} and the overview's picture show.
 */
@Component
class SliceInventoryService {

	private final ClusterView cluster;

	private final EndpointRegistry registry;

	private final Tiers tiers;

	private final DispatchRuntime dispatcher;

	SliceInventoryService(ClusterView cluster, EndpointRegistry registry, Tiers tiers, DispatchRuntime dispatcher) {
		this.cluster = cluster;
		this.registry = registry;
		this.tiers = tiers;
		this.dispatcher = dispatcher;
	}

	Slices slices() {
		SliceInventory inventory = SliceInventory.of(this.cluster.nodes(), this.cluster.inferencePods(),
				(pc) -> this.tiers.tierOfPriorityClass(pc));
		List<EndpointSlots> endpoints = new ArrayList<>();
		Map<String, Map<Tier, Integer>> leases = this.dispatcher.inFlightByEndpointAndTier();
		for (Endpoint endpoint : this.registry.endpoints()) {
			String tier = this.tiers.tierOfPriorityClass(endpoint.priorityClass());
			Map<String, Integer> byTier = new LinkedHashMap<>();
			leases.getOrDefault(endpoint.key(), Map.of()).forEach((t, n) -> byTier.put(t.name(), n));
			endpoints.add(new EndpointSlots(endpoint.key(), endpoint.model(), endpoint.node(), endpoint.slices(),
					endpoint.priorityClass(), (tier != null) ? tier : SliceInventory.NO_TIER, endpoint.slots(),
					endpoint.inFlight(), byTier, endpoint.accepting()));
		}
		int slots = endpoints.stream().mapToInt(EndpointSlots::slots).sum();
		int inUse = endpoints.stream().mapToInt(EndpointSlots::inUse).sum();
		double slotUtilization = (slots > 0) ? Math.round(1000.0 * inUse / slots) / 10.0 : 0.0;
		return new Slices(inventory.nodes(), endpoints, new Totals(inventory.totals(), slots, inUse, slotUtilization));
	}

	/**
	 * The inventory.
	 *
	 * @param nodes per node, its slices
	 * @param endpoints per endpoint, its slots and how many are in use
	 * @param totals cluster totals
	 */
	record Slices(List<SliceInventory.NodeSlices> nodes, List<EndpointSlots> endpoints, Totals totals) {
	}

	/**
	 * One endpoint's slots.
	 *
	 * @param endpoint pod key
	 * @param model model
	 * @param node node
	 * @param slices GPU slices the pod holds
	 * @param priorityClass the pod's PriorityClass
	 * @param tier the pod's tier (from its PriorityClass), or {@code none}
	 * @param slots requests it serves at once
	 * @param inUse requests in flight through this replica
	 * @param inUseByTier requests in flight by their tier, from the dispatcher's leases
	 * @param accepting whether it takes new requests
	 */
	record EndpointSlots(String endpoint, String model, String node, int slices, String priorityClass, String tier,
			int slots, int inUse, Map<String, Integer> inUseByTier, boolean accepting) {
	}

	/**
	 * Totals.
	 *
	 * @param slices the cluster's slice totals and utilization (requested / allocatable)
	 * @param slots slots of all endpoints
	 * @param slotsInUse slots in use
	 * @param slotUtilizationPercent slots in use / slots, in percent
	 */
	record Totals(SliceInventory.Totals slices, int slots, int slotsInUse, double slotUtilizationPercent) {
	}

}
