package dev.tiergate.replicas;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import dev.tiergate.tier.Tier;

/**
 * How a pool's slots are divided among the live replicas: pure functions, no I/O, no
 * clock. Every replica computes the whole division from the same picture in Redis and
 * claims its own row; {@link #claim} is the rule the claim script applies atomically.
 * <p>
 * {@link #shares} gives each replica a number of the pool's slots, in four steps:
 * <ol>
 * <li>a minimum share ({@code minShare} slots, 1 by default) to every replica, so that a
 * replica with no recent demand can still start a P0 request at once (its own scheduler
 * keeps that slot for P0, whose reserve is at least one slot); when the pool has fewer
 * slots than that needs, the replicas with the most demand get one each;</li>
 * <li>each tier's fleet reserve, most urgent first: {@code ceil(reservedShare x slots)}
 * (P0's 30% by default), to the replicas in proportion to their demand of that tier, none
 * beyond its demand; so P0's reserve follows P0's requests, whichever replica they came
 * to, and within a replica P0 takes those slots by priority and preemption;</li>
 * <li>what is left, in proportion to each replica's total demand (waiting plus in flight,
 * all tiers), none beyond its demand;</li>
 * <li>what is still left (demand is met everywhere), evenly, so a burst finds room.</li>
 * </ol>
 * Integer splits use the largest remainder; ties go to replica names in order, so every
 * replica computes the same result. {@link #place} then turns shares into slots per
 * endpoint, keeping what each replica holds where it can, so ownership moves little.
 */
public final class SlotAllocation {

	private static final Tier[] TIERS = Tier.values();

	private SlotAllocation() {
	}

	/**
	 * One replica's recent demand in one pool.
	 *
	 * @param name the replica
	 * @param demand per tier, requests waiting plus requests in flight (missing tiers
	 * count 0)
	 */
	public record Demand(String name, Map<Tier, Integer> demand) {

		public Demand {
			demand = Map.copyOf(demand);
		}

		int of(Tier tier) {
			return Math.max(0, this.demand.getOrDefault(tier, 0));
		}

		int total() {
			int total = 0;
			for (Tier tier : TIERS) {
				total += of(tier);
			}
			return total;
		}

	}

	/**
	 * The slots of a pool each replica may own.
	 * @param slots the pool's slots (accepting endpoints)
	 * @param reservedShares each tier's reserved share of the pool, in [0,1]
	 * @param replicas the live replicas with their demand in this pool
	 * @param minShare the slots every replica gets before demand counts
	 * @return slots per replica name; the values add up to {@code slots} (or 0 without
	 * replicas)
	 */
	public static Map<String, Integer> shares(int slots, Map<Tier, Double> reservedShares, List<Demand> replicas,
			int minShare) {
		List<Demand> order = new ArrayList<>(replicas);
		order.sort(Comparator.comparing(Demand::name));
		int n = order.size();
		Map<String, Integer> result = new LinkedHashMap<>();
		if (n == 0) {
			return result;
		}
		long[] given = new long[n];
		int total = Math.max(0, slots);
		// 1. The minimum share.
		if ((long) minShare * n <= total) {
			for (int i = 0; i < n; i++) {
				given[i] = minShare;
			}
		}
		else {
			List<Integer> busiest = new ArrayList<>();
			for (int i = 0; i < n; i++) {
				busiest.add(i);
			}
			busiest.sort(Comparator.comparingInt((Integer i) -> -order.get(i).total()));
			for (int k = 0; k < Math.min(total, n) && minShare > 0; k++) {
				given[busiest.get(k)] = 1;
			}
		}
		long pot = total - sum(given);
		// 2. Each tier's fleet reserve, by that tier's demand.
		for (Tier tier : TIERS) {
			double share = reservedShares.getOrDefault(tier, 0.0);
			if (share <= 0 || pot <= 0) {
				continue;
			}
			long reserve = Math.min(pot, (long) Math.ceil(share * total - 1e-9));
			long[] weights = new long[n];
			long[] caps = new long[n];
			for (int i = 0; i < n; i++) {
				weights[i] = order.get(i).of(tier);
				caps[i] = Math.max(0, order.get(i).of(tier) - given[i]);
			}
			pot -= fill(reserve, weights, caps, given);
		}
		// 3. The rest, by total demand.
		if (pot > 0) {
			long[] weights = new long[n];
			long[] caps = new long[n];
			for (int i = 0; i < n; i++) {
				weights[i] = order.get(i).total();
				caps[i] = Math.max(0, order.get(i).total() - given[i]);
			}
			pot -= fill(pot, weights, caps, given);
		}
		// 4. Evenly.
		if (pot > 0) {
			long[] weights = new long[n];
			long[] caps = new long[n];
			for (int i = 0; i < n; i++) {
				weights[i] = 1;
				caps[i] = Long.MAX_VALUE;
			}
			pot -= fill(pot, weights, caps, given);
		}
		for (int i = 0; i < n; i++) {
			result.put(order.get(i).name(), (int) given[i]);
		}
		return result;
	}

	/**
	 * Adds up to {@code amount} to {@code given} in proportion to the weights, none
	 * beyond its cap (water filling, then the largest remainder).
	 * @return what was handed out
	 */
	static long fill(long amount, long[] weights, long[] caps, long[] given) {
		int n = weights.length;
		boolean[] active = new boolean[n];
		long[] add = new long[n];
		for (int i = 0; i < n; i++) {
			active[i] = weights[i] > 0 && caps[i] > 0;
		}
		long remaining = amount;
		while (remaining > 0) {
			long weight = 0;
			for (int i = 0; i < n; i++) {
				if (active[i]) {
					weight += weights[i];
				}
			}
			if (weight == 0) {
				break;
			}
			boolean capped = false;
			for (int i = 0; i < n; i++) {
				if (active[i] && (double) remaining * weights[i] / weight >= caps[i] - add[i]) {
					remaining -= caps[i] - add[i];
					add[i] = caps[i];
					active[i] = false;
					capped = true;
				}
			}
			if (capped) {
				continue;
			}
			double[] fraction = new double[n];
			long handed = 0;
			for (int i = 0; i < n; i++) {
				if (active[i]) {
					double ideal = (double) remaining * weights[i] / weight;
					long whole = (long) Math.floor(ideal);
					add[i] += whole;
					handed += whole;
					fraction[i] = ideal - whole;
				}
			}
			long left = remaining - handed;
			List<Integer> byFraction = new ArrayList<>();
			for (int i = 0; i < n; i++) {
				if (active[i]) {
					byFraction.add(i);
				}
			}
			// Stable sort: ties keep name order.
			byFraction.sort(Comparator.comparingDouble((Integer i) -> -fraction[i]));
			for (int k = 0; k < byFraction.size() && left > 0; k++) {
				int i = byFraction.get(k);
				if (add[i] < caps[i]) {
					add[i]++;
					left--;
				}
			}
			remaining = left;
			break;
		}
		long handed = 0;
		for (int i = 0; i < n; i++) {
			given[i] += add[i];
			handed += add[i];
		}
		return handed;
	}

	private static long sum(long[] values) {
		long sum = 0;
		for (long value : values) {
			sum += value;
		}
		return sum;
	}

	/**
	 * Slots per endpoint for every replica. First each replica keeps what it holds, in
	 * endpoint order, up to its share and the endpoint's slots; then the replicas still
	 * short take free slots in turn, one at a time, each from the endpoint with the most
	 * free slots (then the one where it has the fewest), so that every replica's slots
	 * are spread over the endpoints.
	 * @param endpointSlots slots per endpoint key (accepting endpoints)
	 * @param shares slots per replica, from {@link #shares}
	 * @param held what each replica holds now, per endpoint key (may be empty)
	 * @return per replica, slots per endpoint key (endpoints with none left out); per
	 * endpoint, the replicas' slots add up to at most its slots
	 */
	public static Map<String, Map<String, Integer>> place(Map<String, Integer> endpointSlots,
			Map<String, Integer> shares, Map<String, Map<String, Integer>> held) {
		List<String> endpoints = new ArrayList<>(new TreeMap<>(endpointSlots).keySet());
		List<String> replicas = new ArrayList<>(new TreeMap<>(shares).keySet());
		Map<String, Integer> free = new HashMap<>();
		endpoints.forEach((e) -> free.put(e, Math.max(0, endpointSlots.get(e))));
		Map<String, Map<String, Integer>> result = new LinkedHashMap<>();
		Map<String, Integer> need = new HashMap<>();
		for (String replica : replicas) {
			Map<String, Integer> row = new TreeMap<>();
			result.put(replica, row);
			int left = Math.max(0, shares.get(replica));
			Map<String, Integer> holds = held.getOrDefault(replica, Map.of());
			for (String endpoint : endpoints) {
				int keep = Math.min(Math.max(0, holds.getOrDefault(endpoint, 0)), Math.min(left, free.get(endpoint)));
				if (keep > 0) {
					row.put(endpoint, keep);
					free.merge(endpoint, -keep, Integer::sum);
					left -= keep;
				}
			}
			need.put(replica, left);
		}
		boolean progress = true;
		while (progress) {
			progress = false;
			for (String replica : replicas) {
				if (need.get(replica) == 0) {
					continue;
				}
				Map<String, Integer> row = result.get(replica);
				String best = null;
				for (String endpoint : endpoints) {
					int room = free.get(endpoint);
					if (room == 0) {
						continue;
					}
					if (best == null || room > free.get(best)
							|| (room == free.get(best) && row.getOrDefault(endpoint, 0) < row.getOrDefault(best, 0))) {
						best = endpoint;
					}
				}
				if (best == null) {
					continue;
				}
				row.merge(best, 1, Integer::sum);
				free.merge(best, -1, Integer::sum);
				need.merge(replica, -1, Integer::sum);
				progress = true;
			}
		}
		return result;
	}

	/**
	 * The claim rule, applied per endpoint in one atomic step: a replica is granted what
	 * it wants of an endpoint, at most what the other live replicas do not hold; it then
	 * holds the larger of that and its floor (its current grant and its leases, which it
	 * may use until the new grant is in force). A slot therefore changes owner only once
	 * its holder stopped holding it: after its lease ended and its holder published that.
	 * @param want the slots wanted
	 * @param slots the endpoint's slots
	 * @param othersHeld what the other live replicas hold of it
	 * @return the grant: in [0, want]
	 */
	public static int grant(int want, int slots, int othersHeld) {
		return Math.max(0, Math.min(want, slots - othersHeld));
	}

	/**
	 * What a replica holds after {@link #grant}.
	 * @param grant the grant
	 * @param floor current grant or leases, whichever is larger
	 * @return the slots held
	 */
	public static int held(int grant, int floor) {
		return Math.max(grant, floor);
	}

}
