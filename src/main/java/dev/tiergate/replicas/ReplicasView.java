package dev.tiergate.replicas;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

import org.springframework.beans.factory.ObjectProvider;

import dev.tiergate.dispatch.DispatchRuntime;
import dev.tiergate.dispatch.SlotUse;
import dev.tiergate.replica.ReplicaIdentity;
import dev.tiergate.tier.Tier;

/**
 * The fleet of replicas as this replica sees it, for the API and the dashboard: each live
 * replica's heartbeat age, its slots per pool and endpoint, its demand per tier, and
 * whether it leads. Without slot sharing, this replica alone, owning every slot.
 */
public class ReplicasView {

	private final DispatchRuntime runtime;

	private final SlotOwnership ownership;

	private final ObjectProvider<LeaderView> leader;

	private final ReplicaIdentity identity;

	private final ReplicasProperties properties;

	ReplicasView(DispatchRuntime runtime, SlotOwnership ownership, ObjectProvider<LeaderView> leader,
			ReplicaIdentity identity, ReplicasProperties properties) {
		this.runtime = runtime;
		this.ownership = ownership;
		this.leader = leader;
		this.identity = identity;
		this.properties = properties;
	}

	/**
	 * One replica's slots and demand in one pool.
	 *
	 * @param ownedSlots the slots it owns (holds in the ledger) in the pool
	 * @param endpoints the slots it owns per endpoint key
	 * @param demand its recent demand per tier (waiting plus in flight)
	 */
	public record PoolShare(int ownedSlots, Map<String, Integer> endpoints, Map<Tier, Integer> demand) {

	}

	/**
	 * One live replica.
	 *
	 * @param name its name
	 * @param self whether it is this replica
	 * @param leader whether it leads ({@code null} when leadership is not known)
	 * @param heartbeatAgeMillis time since its last heartbeat
	 * @param pools per pool, its slots and demand
	 */
	public record Replica(String name, boolean self, Boolean leader, long heartbeatAgeMillis,
			Map<String, PoolShare> pools) {

	}

	/**
	 * The fleet.
	 *
	 * @param fleet the fleet's name
	 * @param sharing whether slots are shared through Redis
	 * @param self this replica's name
	 * @param leader the leader's name, {@code null} when not known
	 * @param heartbeatTtlMillis the heartbeat TTL
	 * @param fenced whether this replica has fenced itself (no sync for too long)
	 * @param waitingFor what this replica, having just joined, waits for before it
	 * reports ready (its first slot sync, or its share of a pool whose slots other
	 * replicas still hold); {@code null} once ready or without slot sharing
	 * @param slots per pool, all its endpoints' slots
	 * @param replicas the live replicas, by name
	 */
	public record Fleet(String fleet, boolean sharing, String self, String leader, long heartbeatTtlMillis,
			boolean fenced, String waitingFor, Map<String, Integer> slots, List<Replica> replicas) {

	}

	/**
	 * The fleet now.
	 * @return the view
	 */
	public Fleet fleet() {
		List<SlotUse> uses = this.runtime.slotUse();
		Map<String, String> poolOf = new HashMap<>();
		Map<String, Integer> slots = new TreeMap<>();
		for (SlotUse use : uses) {
			int total = 0;
			for (SlotUse.EndpointUse endpoint : use.endpoints()) {
				poolOf.put(endpoint.key(), use.pool());
				total += endpoint.slots();
			}
			slots.put(use.pool(), total);
		}
		LeaderView leaderView = this.leader.getIfAvailable();
		Optional<String> leader = (leaderView != null) ? leaderView.leader() : Optional.empty();
		String me = this.identity.name();
		List<Replica> replicas = new ArrayList<>();
		SlotOwnership.FleetPicture picture = (this.ownership != null) ? this.ownership.picture() : null;
		if (picture == null) {
			Map<String, PoolShare> pools = new TreeMap<>();
			for (SlotUse use : uses) {
				Map<String, Integer> endpoints = new TreeMap<>();
				int owned = 0;
				for (SlotUse.EndpointUse endpoint : use.endpoints()) {
					if (endpoint.granted() > 0) {
						endpoints.put(endpoint.key(), endpoint.granted());
						owned += endpoint.granted();
					}
				}
				pools.put(use.pool(), new PoolShare(owned, endpoints, use.demand()));
			}
			replicas.add(new Replica(me, true, leaderOf(leaderView, leader, me), 0, pools));
		}
		else {
			for (SlotOwnership.ReplicaState state : picture.replicas()) {
				Map<String, PoolShare> pools = new TreeMap<>();
				Map<String, Map<String, Integer>> byPool = new HashMap<>();
				state.held().forEach((endpoint, held) -> {
					String pool = poolOf.get(endpoint);
					if (pool != null) {
						byPool.computeIfAbsent(pool, (p) -> new TreeMap<>()).put(endpoint, held);
					}
				});
				for (String pool : slots.keySet()) {
					Map<String, Integer> endpoints = byPool.getOrDefault(pool, Map.of());
					int owned = endpoints.values().stream().mapToInt(Integer::intValue).sum();
					pools.put(pool, new PoolShare(owned, endpoints, state.demand().getOrDefault(pool, Map.of())));
				}
				replicas.add(new Replica(state.name(), state.name().equals(me),
						leaderOf(leaderView, leader, state.name()), state.heartbeatAgeMillis(), pools));
			}
		}
		return new Fleet(this.properties.fleet(), this.ownership != null, me, leader.orElse(null),
				this.properties.heartbeatTtl().toMillis(), this.ownership != null && this.ownership.fenced(),
				(this.ownership != null) ? this.ownership.waitingFor() : null, new LinkedHashMap<>(slots),
				List.copyOf(replicas));
	}

	private static Boolean leaderOf(LeaderView view, Optional<String> leader, String name) {
		return (view != null) ? leader.map(name::equals).orElse(false) : null;
	}

}
