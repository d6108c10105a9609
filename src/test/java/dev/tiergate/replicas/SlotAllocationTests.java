package dev.tiergate.replicas;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.tiergate.tier.Tier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link SlotAllocation}, on cases computed by hand.
 */
class SlotAllocationTests {

	private static final Map<Tier, Double> P0_30 = Map.of(Tier.P0, 0.30);

	private static SlotAllocation.Demand demand(String name, int p0, int p1, int p2) {
		return new SlotAllocation.Demand(name, Map.of(Tier.P0, p0, Tier.P1, p1, Tier.P2, p2));
	}

	@Test
	void slotsAreSplitInProportionToDemand() {
		// 20 slots, demand 30 and 10: 15 and 5 (each under its demand).
		assertThat(SlotAllocation.shares(20, Map.of(), List.of(demand("a", 0, 0, 30), demand("b", 0, 0, 10)), 0))
			.isEqualTo(Map.of("a", 15, "b", 5));
	}

	@Test
	void slotsBeyondEveryReplicasDemandAreSplitEvenly() {
		// 20 slots, R0 = 6. Minimum 1 + 1, pot 18. P0 reserve: a wants 2 of P0, holds
		// 1, gets 1 (b has no P0). Total demand: a 5 (has 2, gets 3), b 1 (has 1).
		// Left 14, evenly: 7 + 7.
		assertThat(SlotAllocation.shares(20, P0_30, List.of(demand("a", 2, 0, 3), demand("b", 0, 0, 1)), 1))
			.containsEntry("a", 12)
			.containsEntry("b", 8);
	}

	@Test
	void p0sReserveFollowsP0DemandAcrossTheFleet() {
		// 10 slots, R0 = 3. a floods P2, b has 5 P0 requests. Minimum 1 + 1, pot 8.
		// Reserve: all 3 to b (cap 5 - 1 = 4). Pot 5 by total demand 100 : 5, b capped
		// at 1 more: ideal a 4.76, b 0.24; floors 4 + 0, the last slot to the larger
		// remainder, a. a = 1 + 5 = 6, b = 1 + 3 = 4 >= R0.
		Map<String, Integer> shares = SlotAllocation.shares(10, P0_30,
				List.of(demand("a", 0, 0, 100), demand("b", 5, 0, 0)), 1);
		assertThat(shares).containsEntry("a", 6).containsEntry("b", 4);
	}

	@Test
	void p0sReserveIsNotSplitByTotalDemand() {
		// Without the reserve step, b's 3 of 103 total demand would earn it 1 slot of 10;
		// with it, b gets its 3 P0 requests' worth (R0 = 3 >= 3, minimum included).
		Map<String, Integer> shares = SlotAllocation.shares(10, P0_30,
				List.of(demand("a", 0, 0, 100), demand("b", 3, 0, 0)), 1);
		assertThat(shares.get("b")).isEqualTo(3);
		assertThat(shares.get("a")).isEqualTo(7);
	}

	@Test
	void anIdleReplicaKeepsItsMinimumShare() {
		// 8 slots, three replicas, only a busy: 1 each, then the 5 left to a.
		assertThat(SlotAllocation.shares(8, P0_30,
				List.of(demand("a", 0, 0, 50), demand("b", 0, 0, 0), demand("c", 0, 0, 0)), 1))
			.isEqualTo(Map.of("a", 6, "b", 1, "c", 1));
	}

	@Test
	void withFewerSlotsThanReplicasTheBusiestGetOne() {
		assertThat(SlotAllocation.shares(2, P0_30,
				List.of(demand("a", 0, 0, 0), demand("b", 0, 0, 3), demand("c", 1, 0, 0)), 1))
			.isEqualTo(Map.of("a", 0, "b", 1, "c", 1));
	}

	@Test
	void oneReplicaOwnsEverySlot() {
		assertThat(SlotAllocation.shares(37, P0_30, List.of(demand("solo", 0, 0, 0)), 1)).isEqualTo(Map.of("solo", 37));
		assertThat(SlotAllocation.place(Map.of("e1", 8, "e2", 29), Map.of("solo", 37), Map.of()))
			.isEqualTo(Map.of("solo", Map.of("e1", 8, "e2", 29)));
	}

	@Test
	void placementKeepsWhatEachReplicaHolds() {
		// a keeps e1's 4 and takes e2's free slot; b keeps 3 of its 4 on e2.
		assertThat(SlotAllocation.place(Map.of("e1", 4, "e2", 4), Map.of("a", 5, "b", 3),
				Map.of("a", Map.of("e1", 4), "b", Map.of("e2", 4))))
			.isEqualTo(Map.of("a", Map.of("e1", 4, "e2", 1), "b", Map.of("e2", 3)));
	}

	@Test
	void freshPlacementSpreadsEachReplicaOverTheEndpoints() {
		assertThat(SlotAllocation.place(Map.of("e1", 4, "e2", 4), Map.of("a", 4, "b", 4), Map.of()))
			.isEqualTo(Map.of("a", Map.of("e1", 2, "e2", 2), "b", Map.of("e1", 2, "e2", 2)));
	}

	@Test
	void aSlotIsGrantedOnlyWhenNoOtherReplicaHoldsIt() {
		// 8 slots, others hold 6: at most 2 of the 5 wanted.
		assertThat(SlotAllocation.grant(5, 8, 6)).isEqualTo(2);
		// Others hold more than the slots (the endpoint shrank): nothing.
		assertThat(SlotAllocation.grant(5, 8, 9)).isZero();
		// A replica whose grant fell below its leases still holds its leases' slots.
		assertThat(SlotAllocation.held(1, 3)).isEqualTo(3);
		assertThat(SlotAllocation.held(4, 3)).isEqualTo(4);
	}

}
