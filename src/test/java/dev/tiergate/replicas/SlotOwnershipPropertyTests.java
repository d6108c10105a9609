package dev.tiergate.replicas;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;

import dev.tiergate.tier.Tier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Property tests for {@link SlotAllocation} and the claim protocol that
 * {@link SlotOwnership} runs through Redis: many random runs from fixed seeds of a few
 * replicas that start and end leases within their grants, change demand, sync at random
 * moments (each from its own, possibly stale, picture of the fleet; at least every half
 * TTL, as the sync loop does), and die (their connections close with them; their record
 * expires a TTL later). The ledger is modelled by the same rules as the claim script
 * ({@link SlotAllocation#grant}, {@link SlotAllocation#held}). After every step: no
 * endpoint has more leases than slots, no live replica's ledger entry is below its leases
 * (a slot changes owner only after its lease ended), and neither the live replicas'
 * grants nor their ledger entries ever add up to more than an endpoint's slots. At the
 * end, with demand steady and everyone syncing, every slot is owned again.
 */
class SlotOwnershipPropertyTests {

	private static final int SEEDS = Integer.getInteger("tiergate.propertySeeds", 300);

	private static final int STEPS = 2_000;

	private static final int TTL = 6;

	@Test
	void leasesNeverExceedSlotsAndSlotsMoveOnlyAfterTheirLeaseEnds() {
		for (long seed = 1; seed <= SEEDS; seed++) {
			try {
				new Run(seed).play();
			}
			catch (AssertionError ex) {
				throw new AssertionError("seed " + seed + ": " + ex.getMessage(), ex);
			}
		}
	}

	/** One replica of the model. */
	static final class Replica {

		final String name;

		final Map<String, Integer> grant = new TreeMap<>();

		final Map<String, Integer> used = new TreeMap<>();

		final Map<Tier, Integer> demand = new EnumMap<>(Tier.class);

		/** The ledger as it saw it at its last sync: held and demand per replica. */
		Map<String, Map<String, Integer>> pictureHeld = Map.of();

		Map<String, Map<Tier, Integer>> pictureDemand = Map.of();

		boolean dead;

		int lastSync;

		Replica(String name, int now) {
			this.lastSync = now;
			this.name = name;
			for (Tier tier : Tier.values()) {
				this.demand.put(tier, 0);
			}
		}

	}

	static final class Run {

		final Random random;

		final Map<String, Integer> slots = new TreeMap<>();

		final List<Replica> replicas = new ArrayList<>();

		/** The ledger: held per replica, heartbeat expiry, published demand. */
		final Map<String, Map<String, Integer>> held = new HashMap<>();

		final Map<String, Integer> expires = new HashMap<>();

		final Map<String, Map<Tier, Integer>> published = new HashMap<>();

		final Map<Tier, Double> reserved;

		final int minShare;

		int now;

		int next;

		Run(long seed) {
			this.random = new Random(seed);
			int endpoints = 1 + this.random.nextInt(5);
			for (int e = 0; e < endpoints; e++) {
				this.slots.put("e" + e, 1 + this.random.nextInt(8));
			}
			this.reserved = Map.of(Tier.P0, this.random.nextInt(5) / 10.0);
			this.minShare = this.random.nextInt(2);
			int count = 1 + this.random.nextInt(4);
			for (int i = 0; i < count; i++) {
				this.replicas.add(new Replica("r" + this.next++, this.now));
			}
		}

		void play() {
			for (int step = 0; step < STEPS; step++) {
				this.now++;
				// Each replica's loop syncs at least every sync interval, well within the
				// TTL (the properties require TTL >= 4 intervals).
				for (Replica late : this.replicas) {
					if (!late.dead && late.lastSync <= this.now - TTL / 2) {
						sync(late);
					}
				}
				Replica replica = this.replicas.get(this.random.nextInt(this.replicas.size()));
				int action = this.random.nextInt(100);
				if (action < 30) {
					startLease(replica);
				}
				else if (action < 55) {
					endLease(replica);
				}
				else if (action < 65) {
					Tier tier = Tier.values()[this.random.nextInt(3)];
					replica.demand.put(tier, this.random.nextInt(12));
				}
				else if (action < 97) {
					sync(replica);
				}
				else if (action < 99 && this.replicas.stream().filter((r) -> !r.dead).count() > 1) {
					kill(replica);
				}
				else {
					this.replicas.add(new Replica("r" + this.next++, this.now));
				}
				check();
			}
			// Quiet: every lease ends, live replicas sync until nothing moves.
			for (Replica replica : this.replicas) {
				replica.used.clear();
			}
			for (int round = 0; round < 6 + 2 * TTL; round++) {
				this.now++;
				for (Replica replica : this.replicas) {
					sync(replica);
				}
				check();
			}
			for (Map.Entry<String, Integer> endpoint : this.slots.entrySet()) {
				int granted = this.replicas.stream()
					.filter((r) -> !r.dead)
					.mapToInt((r) -> r.grant.getOrDefault(endpoint.getKey(), 0))
					.sum();
				assertThat(granted).as("slots of %s owned once the fleet is quiet", endpoint.getKey())
					.isEqualTo(endpoint.getValue());
			}
		}

		void startLease(Replica replica) {
			if (replica.dead) {
				return;
			}
			List<String> free = new ArrayList<>();
			for (String endpoint : this.slots.keySet()) {
				if (replica.used.getOrDefault(endpoint, 0) < replica.grant.getOrDefault(endpoint, 0)) {
					free.add(endpoint);
				}
			}
			if (!free.isEmpty()) {
				replica.used.merge(free.get(this.random.nextInt(free.size())), 1, Integer::sum);
			}
		}

		void endLease(Replica replica) {
			List<String> busy = new ArrayList<>();
			replica.used.forEach((endpoint, count) -> {
				if (count > 0) {
					busy.add(endpoint);
				}
			});
			if (!busy.isEmpty()) {
				replica.used.merge(busy.get(this.random.nextInt(busy.size())), -1, Integer::sum);
			}
		}

		void kill(Replica replica) {
			// The process is gone: no more syncs, its connections closed with it.
			replica.dead = true;
			replica.grant.clear();
			replica.used.clear();
		}

		boolean live(String name) {
			return this.expires.getOrDefault(name, -1) > this.now;
		}

		/** One sync round of a replica, the ledger step atomic as the script's. */
		void sync(Replica replica) {
			if (replica.dead) {
				return;
			}
			// Wants, from the replica's last picture.
			List<SlotAllocation.Demand> demands = new ArrayList<>();
			Map<String, Map<String, Integer>> holds = new HashMap<>();
			demands.add(new SlotAllocation.Demand(replica.name, replica.demand));
			Map<String, Integer> mine = new HashMap<>();
			for (String endpoint : this.slots.keySet()) {
				mine.put(endpoint,
						Math.max(replica.grant.getOrDefault(endpoint, 0), replica.used.getOrDefault(endpoint, 0)));
			}
			holds.put(replica.name, mine);
			replica.pictureHeld.forEach((name, h) -> {
				if (!name.equals(replica.name)) {
					holds.put(name, h);
					demands.add(new SlotAllocation.Demand(name, replica.pictureDemand.getOrDefault(name, Map.of())));
				}
			});
			int total = this.slots.values().stream().mapToInt(Integer::intValue).sum();
			Map<String, Integer> shares = SlotAllocation.shares(total, this.reserved, demands, this.minShare);
			assertThat(shares.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(total);
			Map<String, Integer> wants = SlotAllocation.place(this.slots, shares, holds)
				.getOrDefault(replica.name, Map.of());
			// The script: heartbeat, prune the dead, claim.
			replica.lastSync = this.now;
			this.expires.put(replica.name, this.now + TTL);
			this.published.put(replica.name, Map.copyOf(replica.demand));
			this.held.keySet().removeIf((name) -> !live(name));
			Map<String, Integer> ledger = this.held.computeIfAbsent(replica.name, (k) -> new HashMap<>());
			for (Map.Entry<String, Integer> endpoint : this.slots.entrySet()) {
				String key = endpoint.getKey();
				int others = 0;
				for (Map.Entry<String, Map<String, Integer>> other : this.held.entrySet()) {
					if (!other.getKey().equals(replica.name)) {
						others += other.getValue().getOrDefault(key, 0);
					}
				}
				int floor = Math.max(replica.grant.getOrDefault(key, 0), replica.used.getOrDefault(key, 0));
				int grant = SlotAllocation.grant(wants.getOrDefault(key, 0), endpoint.getValue(), others);
				assertThat(grant).isBetween(0, wants.getOrDefault(key, 0));
				ledger.put(key, SlotAllocation.held(grant, floor));
				// The grant is in force only after the ledger holds it.
				replica.grant.put(key, grant);
			}
			Map<String, Map<String, Integer>> picture = new HashMap<>();
			this.held.forEach((name, h) -> picture.put(name, Map.copyOf(h)));
			replica.pictureHeld = picture;
			Map<String, Map<Tier, Integer>> demand = new HashMap<>();
			this.held.keySet().forEach((name) -> demand.put(name, this.published.get(name)));
			replica.pictureDemand = demand;
		}

		void check() {
			for (Map.Entry<String, Integer> endpoint : this.slots.entrySet()) {
				String key = endpoint.getKey();
				int leases = 0;
				int grants = 0;
				for (Replica replica : this.replicas) {
					int used = replica.used.getOrDefault(key, 0);
					leases += used;
					if (!replica.dead) {
						grants += replica.grant.getOrDefault(key, 0);
						if (live(replica.name) && used > 0) {
							assertThat(this.held.get(replica.name).getOrDefault(key, 0))
								.as("ledger entry of %s on %s at step %d covers its leases", replica.name, key,
										this.now)
								.isGreaterThanOrEqualTo(used);
						}
					}
				}
				assertThat(leases).as("leases on %s at step %d", key, this.now)
					.isLessThanOrEqualTo(endpoint.getValue());
				assertThat(grants).as("grants on %s at step %d", key, this.now)
					.isLessThanOrEqualTo(endpoint.getValue());
				int held = 0;
				for (Map.Entry<String, Map<String, Integer>> entry : this.held.entrySet()) {
					if (live(entry.getKey())) {
						held += entry.getValue().getOrDefault(key, 0);
					}
				}
				assertThat(held).as("ledger holdings of %s at step %d", key, this.now)
					.isLessThanOrEqualTo(endpoint.getValue());
			}
		}

	}

}
