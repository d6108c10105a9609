package dev.tiergate.dispatch;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.Test;

import dev.tiergate.tier.ReservePlacement;
import dev.tiergate.tier.Tier;
import dev.tiergate.tier.TierDefinition;
import dev.tiergate.tier.TierProperties;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link PoolScheduler} with P0's reserve placed on whole endpoints
 * ({@link ReservePlacement#ENDPOINTS}).
 */
class PoolSchedulerPlacementTests {

	private final RecordingDecisions decisions = new RecordingDecisions();

	private final Map<Tier, TierDefinition> tiers = new EnumMap<>(TierProperties.DEFAULTS);

	private PoolScheduler scheduler;

	private long now;

	PoolSchedulerPlacementTests() {
		placeP0OnEndpoints(TierDefinition.DEFAULT_BORROW_PER_ENDPOINT);
		this.scheduler = new PoolScheduler("m", this.tiers, 2, 1000, this.decisions);
	}

	private void placeP0OnEndpoints(int borrowPerEndpoint) {
		this.tiers.put(Tier.P0, this.tiers.get(Tier.P0).withPlacement(ReservePlacement.ENDPOINTS, borrowPerEndpoint));
	}

	private Ticket submit(Tier tier) {
		Ticket ticket = new Ticket((tier == Tier.P0) ? "app" : "batch", tier, 100, 1);
		this.scheduler.submit(ticket, this.now);
		return ticket;
	}

	private List<Ticket> submit(Tier tier, int count) {
		List<Ticket> tickets = new ArrayList<>();
		for (int i = 0; i < count; i++) {
			tickets.add(submit(tier));
		}
		return tickets;
	}

	private void endpoints(PoolScheduler scheduler, List<Integer> order, int slots) {
		for (int i : order) {
			scheduler.upsertEndpoint(String.format("llama-%02d", i), slots, true, "node-" + (i % 2), null, this.now);
		}
	}

	private Map<String, Long> runningOn(Tier tier) {
		Map<String, Long> counts = new HashMap<>();
		for (Lease lease : this.scheduler.leases()) {
			if (lease.ticket().tier() == tier) {
				counts.merge(lease.endpointId(), 1L, Long::sum);
			}
		}
		return counts;
	}

	@Test
	void ownEndpointsAreChosenStablyAndSpreadOverNodes() {
		List<Integer> order = new ArrayList<>();
		for (int i = 0; i < 20; i++) {
			order.add(i);
		}
		endpoints(this.scheduler, order, 8);
		List<String> chosen = this.scheduler.reservedEndpoints();
		// ceil(0.3 x 20) endpoints, half on each node.
		assertThat(chosen).hasSize(6);
		assertThat(chosen.stream().filter((id) -> Integer.parseInt(id.substring(6)) % 2 == 0)).hasSize(3);
		// Another replica that saw the endpoints in another order chooses the same ones.
		PoolScheduler other = new PoolScheduler("m", this.tiers, 2, 1000, new RecordingDecisions());
		java.util.Collections.shuffle(order, new Random(42));
		endpoints(other, order, 8);
		assertThat(Set.copyOf(other.reservedEndpoints())).isEqualTo(Set.copyOf(chosen));
		// The snapshot shows P0's reserve as its endpoints' slots.
		assertThat(this.scheduler.snapshot(this.now).tiers().get(Tier.P0).reserved()).isEqualTo(48);
	}

	@Test
	void p0GoesToItsOwnEndpointsFirst() {
		endpoints(this.scheduler, List.of(0, 1, 2, 3), 4);
		List<String> own = this.scheduler.reservedEndpoints();
		assertThat(own).hasSize(2);
		submit(Tier.P0, 8);
		assertThat(runningOn(Tier.P0).keySet()).containsExactlyInAnyOrderElementsOf(own);
		assertThat(runningOn(Tier.P0).values()).containsOnly(4L);
		// Full of P0: the next one spills to a shared endpoint.
		submit(Tier.P0);
		assertThat(runningOn(Tier.P0)).hasSize(3);
	}

	@Test
	void lowerTiersBorrowAtMostBorrowPerEndpointOnP0Endpoints() {
		// 4 endpoints x 4 slots; one is P0's: P2 fills the 12 shared slots and 2 there.
		this.tiers.put(Tier.P0, this.tiers.get(Tier.P0).withReservedShare(0.25));
		this.scheduler.configure(this.tiers, this.now);
		endpoints(this.scheduler, List.of(0, 1, 2, 3), 4);
		String own = this.scheduler.reservedEndpoints().get(0);
		submit(Tier.P2, 20);
		assertThat(this.scheduler.used()).isEqualTo(14);
		assertThat(this.scheduler.queued(Tier.P2)).isEqualTo(6);
		assertThat(runningOn(Tier.P2).get(own)).isEqualTo(2L);
		assertThat(this.scheduler.borrowed()).isEqualTo(2);
		assertThat(this.scheduler.room(Tier.P0)).isEqualTo(2);
	}

	@Test
	void p0PreemptsLowerTiersOnItsEndpointsFirst() {
		this.tiers.put(Tier.P0, this.tiers.get(Tier.P0).withReservedShare(0.25));
		this.scheduler.configure(this.tiers, this.now);
		endpoints(this.scheduler, List.of(0, 1, 2, 3), 4);
		String own = this.scheduler.reservedEndpoints().get(0);
		submit(Tier.P2, 20);
		this.decisions.take();
		// Two free slots there, then the two guests make room; shared P2 is untouched.
		submit(Tier.P0, 4);
		List<RecordingDecisions.Decision> made = this.decisions.take();
		assertThat(made).extracting(RecordingDecisions.Decision::kind)
			.containsExactly("dispatched", "dispatched", "preempted", "dispatched", "preempted", "dispatched");
		assertThat(made).filteredOn((d) -> d.kind().equals("preempted"))
			.allSatisfy((d) -> assertThat(d.lease().endpointId()).isEqualTo(own));
		assertThat(runningOn(Tier.P0)).containsExactly(Map.entry(own, 4L));
		// The preempted guests wait again; they do not push shared P2 out.
		assertThat(this.scheduler.queued(Tier.P2)).isEqualTo(8);
		assertThat(runningOn(Tier.P2).values().stream().mapToLong(Long::longValue).sum()).isEqualTo(12);
	}

	@Test
	void p0SpillsToSharedEndpointsByPreemptingWhenItsOwnAreFullOfP0() {
		this.tiers.put(Tier.P0, this.tiers.get(Tier.P0).withReservedShare(0.25));
		this.scheduler.configure(this.tiers, this.now);
		endpoints(this.scheduler, List.of(0, 1, 2, 3), 4);
		String own = this.scheduler.reservedEndpoints().get(0);
		submit(Tier.P2, 20);
		submit(Tier.P0, 4);
		this.decisions.take();
		submit(Tier.P0);
		List<RecordingDecisions.Decision> made = this.decisions.take();
		assertThat(made).extracting(RecordingDecisions.Decision::kind).containsExactly("preempted", "dispatched");
		assertThat(made.get(1).lease().endpointId()).isNotEqualTo(own);
	}

	@Test
	void withoutBorrowingOrBudgetNothingRunsOnP0Endpoints() {
		placeP0OnEndpoints(0);
		this.scheduler.configure(this.tiers, this.now);
		endpoints(this.scheduler, List.of(0, 1, 2, 3), 4);
		submit(Tier.P2, 20);
		assertThat(this.scheduler.used()).isEqualTo(8);
		assertThat(runningOn(Tier.P2).keySet()).doesNotContainAnyElementsOf(this.scheduler.reservedEndpoints());
		assertThat(this.scheduler.room(Tier.P2)).isZero();
	}

	@Test
	void switchingPlacementAtRunTimeKeepsEveryLeaseAccounted() {
		endpoints(this.scheduler, List.of(0, 1, 2, 3), 4);
		List<Ticket> p2 = submit(Tier.P2, 20);
		submit(Tier.P0, 3);
		this.tiers.put(Tier.P0, this.tiers.get(Tier.P0).withPlacement(ReservePlacement.SLOTS, 2));
		this.scheduler.configure(this.tiers, this.now);
		assertThat(this.scheduler.reservedEndpoints()).isEmpty();
		for (Ticket ticket : p2) {
			if (ticket.lease() != null) {
				this.scheduler.finish(ticket.lease(), this.now);
			}
		}
		while (this.scheduler.used() > 0) {
			for (Lease lease : this.scheduler.leases()) {
				this.scheduler.finish(lease, this.now);
			}
		}
		assertThat(this.scheduler.used()).isZero();
		assertThat(this.scheduler.borrowed()).isZero();
		assertThat(this.scheduler.free()).isEqualTo(16);
		for (Tier tier : Tier.values()) {
			assertThat(this.scheduler.inFlight(tier)).isZero();
		}
	}

}
