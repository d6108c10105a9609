package dev.tiergate.dispatch;

import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import dev.tiergate.tier.Tier;
import dev.tiergate.tier.TierDefinition;
import dev.tiergate.tier.TierProperties;

/**
 * Tests for {@link PoolScheduler}: the capacity rules, one scenario at a time.
 */
class PoolSchedulerTests {

	private static final long MS = 1_000_000L;

	private final RecordingDecisions decisions = new RecordingDecisions();

	private Map<Tier, TierDefinition> tiers = new EnumMap<>(TierProperties.DEFAULTS);

	private PoolScheduler scheduler = new PoolScheduler("m", this.tiers, 2, 1000, this.decisions);

	private long now = 0;

	private Ticket submit(Tier tier, String tenant) {
		Ticket ticket = new Ticket(tenant, tier, 100, 1);
		this.scheduler.submit(ticket, this.now);
		return ticket;
	}

	private void endpoints(int count, int slots) {
		for (int i = 0; i < count; i++) {
			this.scheduler.upsertEndpoint("e" + i, slots, true, null, this.now);
		}
	}

	@Test
	void roomIsWhatATierWouldStartAtOnce() {
		// 10 slots: P0 reserves 3; P2 may take the 7 shared and borrow the 3.
		assertThat(this.scheduler.room(Tier.P2)).isZero();
		endpoints(10, 1);
		assertThat(this.scheduler.room(Tier.P0)).isEqualTo(10);
		assertThat(this.scheduler.room(Tier.P2)).isEqualTo(10);
		for (int i = 0; i < 4; i++) {
			submit(Tier.P2, "batch");
		}
		assertThat(this.scheduler.room(Tier.P2)).isEqualTo(6);
		for (int i = 0; i < 6; i++) {
			submit(Tier.P2, "batch");
		}
		assertThat(this.scheduler.used()).isEqualTo(10);
		assertThat(this.scheduler.room(Tier.P2)).isZero();
		// P0 would preempt, but has no free slot to start on at once.
		assertThat(this.scheduler.room(Tier.P0)).isZero();
	}

	@Test
	void roomFollowsTheRulesSubmitApplies() {
		// Without borrowing, P2 has only the 7 shared slots: room says 7, and submit
		// agrees.
		this.tiers.put(Tier.P2, withBorrow(this.tiers.get(Tier.P2), false));
		this.scheduler.configure(this.tiers, this.now);
		endpoints(10, 1);
		assertThat(this.scheduler.room(Tier.P2)).isEqualTo(7);
		for (int i = 0; i < 7; i++) {
			submit(Tier.P2, "batch");
		}
		assertThat(this.scheduler.queued(Tier.P2)).isZero();
		assertThat(this.scheduler.room(Tier.P2)).isZero();
		assertThat(this.scheduler.room(Tier.P0)).isEqualTo(3);
		submit(Tier.P2, "batch");
		assertThat(this.scheduler.queued(Tier.P2)).isEqualTo(1);
	}

	@Test
	void noRoomWhileAMoreUrgentOrTheSameTierWaits() {
		this.tiers.put(Tier.P1, withBorrow(this.tiers.get(Tier.P1), false));
		this.tiers.put(Tier.P2, withBorrow(this.tiers.get(Tier.P2), false));
		this.scheduler.configure(this.tiers, this.now);
		endpoints(2, 1);
		// 2 slots: P0 reserves 1; P1 takes the shared one, a second P1 waits.
		submit(Tier.P1, "a");
		submit(Tier.P1, "a");
		assertThat(this.scheduler.queued(Tier.P1)).isEqualTo(1);
		assertThat(this.scheduler.room(Tier.P2)).isZero();
		assertThat(this.scheduler.room(Tier.P1)).isZero();
		assertThat(this.scheduler.room(Tier.P0)).isEqualTo(1);
	}

	@Test
	void roomAllocatesNothing() {
		endpoints(50, 4);
		for (int i = 0; i < 30; i++) {
			submit(Tier.P2, "batch");
		}
		com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory
			.getThreadMXBean();
		long sum = 0;
		for (int i = 0; i < 10_000; i++) {
			sum += this.scheduler.room(Tier.P2);
		}
		long before = threads.getCurrentThreadAllocatedBytes();
		for (int i = 0; i < 100_000; i++) {
			sum += this.scheduler.room(Tier.P2);
		}
		long allocated = threads.getCurrentThreadAllocatedBytes() - before;
		assertThat(sum).isPositive();
		assertThat(allocated).as("bytes allocated by 100,000 calls").isLessThan(1024);
	}

	@Test
	void aLeaseKeepsTheEndpointItWasGrantedWhenAPodOfTheSameNameReturns() {
		Object before = "endpoint before the restart";
		Object after = "endpoint after the restart";
		this.scheduler.upsertEndpoint("web-0", 1, true, before, this.now);
		Ticket ticket = submit(Tier.P1, "a");
		Lease lease = ticket.lease();
		assertThat(lease.endpointAttachment()).isSameAs(before);
		// A StatefulSet pod is deleted and comes back under the same name while the old
		// lease drains.
		this.scheduler.removeEndpoint("web-0", this.now);
		this.scheduler.upsertEndpoint("web-0", 1, true, after, this.now);
		assertThat(lease.endpointAttachment()).isSameAs(before);
	}

	@Test
	void withoutAcceptingEndpointsARequestIsRejectedAtOnce() {
		Ticket ticket = submit(Tier.P1, "a");
		assertThat(this.decisions.take()).singleElement()
			.satisfies((d) -> assertThat(d.reason()).isEqualTo(RejectReason.NO_CAPACITY));
		assertThat(ticket.state()).isEqualTo(Ticket.State.DONE);
	}

	@Test
	void p0KeepsItsReservedShareWhileLowerTiersFillTheRest() {
		// 10 slots: P0 reserves 3; P2 may fill 7 and borrow the 3 only as preemptible
		// leases.
		this.tiers.put(Tier.P2, withBorrow(this.tiers.get(Tier.P2), false));
		this.scheduler.configure(this.tiers, this.now);
		endpoints(10, 1);
		for (int i = 0; i < 9; i++) {
			submit(Tier.P2, "batch");
		}
		assertThat(this.scheduler.used()).isEqualTo(7);
		assertThat(this.scheduler.queued(Tier.P2)).isEqualTo(2);
		submit(Tier.P0, "rt");
		assertThat(this.scheduler.used()).isEqualTo(8);
		assertThat(this.scheduler.queued(Tier.P0)).isZero();
	}

	@Test
	void borrowedSlotsAreTakenBackByP0() {
		endpoints(10, 1);
		for (int i = 0; i < 12; i++) {
			submit(Tier.P2, "batch");
		}
		assertThat(this.scheduler.used()).isEqualTo(10);
		PoolSnapshot snapshot = this.scheduler.snapshot(this.now);
		assertThat(snapshot.tiers().get(Tier.P2).borrowed()).isEqualTo(3);
		this.decisions.take();
		submit(Tier.P0, "rt");
		List<RecordingDecisions.Decision> made = this.decisions.take();
		assertThat(made).extracting(RecordingDecisions.Decision::kind).containsExactly("preempted", "dispatched");
		assertThat(made.get(0).lease().borrowed()).isTrue();
		assertThat(made.get(0).requeued()).isTrue();
		assertThat(made.get(1).ticket().tier()).isEqualTo(Tier.P0);
		assertThat(made.get(1).lease().endpointId()).isEqualTo(made.get(0).lease().endpointId());
	}

	@Test
	void theVictimIsTheMostRecentlyStartedPreemptibleLeaseOfALowerTier() {
		this.tiers.put(Tier.P0, new TierDefinition(0.0, 100, Duration.ofSeconds(1), Set.of(Tier.P2), false,
				this.tiers.get(Tier.P0).priorityClass()));
		this.scheduler.configure(this.tiers, this.now);
		endpoints(3, 1);
		Ticket first = submit(Tier.P2, "b");
		this.now += MS;
		Ticket second = submit(Tier.P1, "b");
		this.now += MS;
		Ticket third = submit(Tier.P2, "b");
		this.decisions.take();
		submit(Tier.P0, "rt");
		List<RecordingDecisions.Decision> made = this.decisions.take();
		assertThat(made.get(0).kind()).isEqualTo("preempted");
		assertThat(made.get(0).ticket()).isSameAs(third);
		assertThat(first.state()).isEqualTo(Ticket.State.RUNNING);
		assertThat(second.state()).isEqualTo(Ticket.State.RUNNING);
	}

	@Test
	void aPreemptedTicketThatHadStreamedEndsInsteadOfRequeueing() {
		endpoints(1, 1);
		this.tiers.put(Tier.P0, new TierDefinition(0.0, 100, Duration.ofSeconds(1), Set.of(Tier.P2), false,
				this.tiers.get(Tier.P0).priorityClass()));
		this.scheduler.configure(this.tiers, this.now);
		Ticket batch = submit(Tier.P2, "b");
		assertThat(this.scheduler.markSent(batch.lease())).isTrue();
		this.decisions.take();
		submit(Tier.P0, "rt");
		RecordingDecisions.Decision preemption = this.decisions.take().get(0);
		assertThat(preemption.requeued()).isFalse();
		assertThat(batch.state()).isEqualTo(Ticket.State.DONE);
		assertThat(this.scheduler.markSent(preemption.lease())).isFalse();
		assertThat(this.scheduler.finish(preemption.lease(), this.now)).as("already released").isFalse();
	}

	@Test
	void aRequeuedTicketGoesToTheHeadOfItsTierAndItsBudgetRunsOut() {
		this.tiers.put(Tier.P0, new TierDefinition(0.0, 100, Duration.ofSeconds(1), Set.of(Tier.P2), false,
				this.tiers.get(Tier.P0).priorityClass()));
		this.scheduler.configure(this.tiers, this.now);
		endpoints(1, 1);
		Ticket victim = submit(Tier.P2, "b");
		Ticket waiting = submit(Tier.P2, "c");
		for (int round = 0; round < 2; round++) {
			Ticket rt = submit(Tier.P0, "rt");
			assertThat(victim.state()).isEqualTo(Ticket.State.QUEUED);
			this.scheduler.finish(rt.lease(), this.now);
			assertThat(victim.state()).as("requeued at the head, ahead of an earlier waiter")
				.isEqualTo(Ticket.State.RUNNING);
			assertThat(waiting.state()).isEqualTo(Ticket.State.QUEUED);
		}
		assertThat(victim.preemptionsLeft()).isZero();
		assertThat(victim.lease().preemptible()).isFalse();
		submit(Tier.P0, "rt");
		assertThat(victim.state()).as("no longer preemptible").isEqualTo(Ticket.State.RUNNING);
		assertThat(this.scheduler.queued(Tier.P0)).isEqualTo(1);
	}

	@Test
	void p1DoesNotPreemptWhatItMayNot() {
		endpoints(1, 1);
		submit(Tier.P0, "rt");
		Ticket p1 = submit(Tier.P1, "a");
		assertThat(p1.state()).isEqualTo(Ticket.State.QUEUED);
	}

	@Test
	void strictPriorityAcrossTiersWhenASlotFrees() {
		this.tiers.put(Tier.P0, new TierDefinition(0.0, 100, Duration.ofSeconds(5), Set.of(), false,
				this.tiers.get(Tier.P0).priorityClass()));
		this.scheduler.configure(this.tiers, this.now);
		endpoints(1, 1);
		Ticket running = submit(Tier.P1, "a");
		Ticket p2 = submit(Tier.P2, "b");
		Ticket p1 = submit(Tier.P1, "b");
		Ticket p0 = submit(Tier.P0, "c");
		this.scheduler.finish(running.lease(), this.now);
		assertThat(p0.state()).isEqualTo(Ticket.State.RUNNING);
		this.scheduler.finish(p0.lease(), this.now);
		assertThat(p1.state()).isEqualTo(Ticket.State.RUNNING);
		assertThat(p2.state()).isEqualTo(Ticket.State.QUEUED);
	}

	@Test
	void waitingPastTheTiersDeadlineIsRejected() {
		endpoints(1, 1);
		submit(Tier.P1, "a");
		Ticket late = submit(Tier.P1, "b");
		this.decisions.take();
		this.now += Duration.ofSeconds(11).toNanos();
		this.scheduler.tick(this.now);
		assertThat(this.decisions.take()).singleElement().satisfies((d) -> {
			assertThat(d.ticket()).isSameAs(late);
			assertThat(d.reason()).isEqualTo(RejectReason.QUEUE_TIMEOUT);
		});
	}

	@Test
	void overloadShedsTheLowestTierFirst() {
		this.scheduler = new PoolScheduler("m", this.tiers, 2, 3, this.decisions);
		this.scheduler.upsertEndpoint("e", 1, true, null, this.now);
		submit(Tier.P0, "rt");
		Ticket p2 = submit(Tier.P2, "b");
		submit(Tier.P1, "a");
		submit(Tier.P1, "a");
		this.decisions.take();
		Ticket p0 = submit(Tier.P0, "rt");
		assertThat(this.decisions.take()).singleElement().satisfies((d) -> {
			assertThat(d.ticket()).isSameAs(p2);
			assertThat(d.reason()).isEqualTo(RejectReason.OVERLOADED);
		});
		assertThat(p0.state()).isEqualTo(Ticket.State.QUEUED);
		Ticket another = submit(Tier.P2, "b");
		assertThat(another.state()).isEqualTo(Ticket.State.DONE);
	}

	@Test
	void aFullTierQueueRejectsNewArrivals() {
		this.tiers.put(Tier.P1, new TierDefinition(0.0, 1, Duration.ofSeconds(5), Set.of(), false,
				this.tiers.get(Tier.P1).priorityClass()));
		this.scheduler.configure(this.tiers, this.now);
		endpoints(1, 1);
		submit(Tier.P1, "a");
		submit(Tier.P1, "a");
		this.decisions.take();
		submit(Tier.P1, "a");
		assertThat(this.decisions.take()).singleElement()
			.satisfies((d) -> assertThat(d.reason()).isEqualTo(RejectReason.OVERLOADED));
	}

	@Test
	void aDrainingEndpointKeepsItsLeasesButTakesNoNewOnes() {
		this.scheduler.upsertEndpoint("a", 1, true, null, this.now);
		this.scheduler.upsertEndpoint("b", 1, true, null, this.now);
		Ticket first = submit(Tier.P1, "t");
		this.scheduler.upsertEndpoint(first.lease().endpointId(), 1, false, null, this.now);
		Ticket second = submit(Tier.P1, "t");
		assertThat(second.lease().endpointId()).isNotEqualTo(first.lease().endpointId());
		Ticket third = submit(Tier.P1, "t");
		assertThat(third.state()).isEqualTo(Ticket.State.QUEUED);
		assertThat(this.scheduler.capacity()).isEqualTo(2);
		this.scheduler.finish(first.lease(), this.now);
		assertThat(third.state()).as("the freed slot was on a draining endpoint").isEqualTo(Ticket.State.QUEUED);
	}

	@Test
	void losingTheLastEndpointRejectsTheQueue() {
		this.scheduler.upsertEndpoint("a", 1, true, null, this.now);
		Ticket running = submit(Tier.P1, "t");
		Ticket waiting = submit(Tier.P1, "t");
		this.decisions.take();
		this.scheduler.removeEndpoint("a", this.now);
		assertThat(this.decisions.take()).singleElement().satisfies((d) -> {
			assertThat(d.ticket()).isSameAs(waiting);
			assertThat(d.reason()).isEqualTo(RejectReason.NO_CAPACITY);
		});
		assertThat(this.scheduler.finish(running.lease(), this.now)).isTrue();
		assertThat(this.scheduler.used()).isZero();
	}

	@Test
	void leastLoadedEndpointIsChosen() {
		this.scheduler.upsertEndpoint("a", 4, true, null, this.now);
		this.scheduler.upsertEndpoint("b", 4, true, null, this.now);
		Ticket one = submit(Tier.P1, "t");
		Ticket two = submit(Tier.P1, "t");
		assertThat(one.lease().endpointId()).isNotEqualTo(two.lease().endpointId());
	}

	@Test
	void cancellingAQueuedTicketRemovesItAndCancellingARunningOneFreesItsSlot() {
		endpoints(1, 1);
		Ticket running = submit(Tier.P1, "t");
		Ticket waiting = submit(Tier.P1, "t");
		this.scheduler.cancel(waiting, this.now);
		assertThat(this.scheduler.queued()).isZero();
		this.scheduler.cancel(running, this.now);
		assertThat(this.scheduler.used()).isZero();
		assertThat(running.state()).isEqualTo(Ticket.State.DONE);
	}

	private static TierDefinition withBorrow(TierDefinition d, boolean borrow) {
		return new TierDefinition(d.reservedShare(), d.maxQueueDepth(), d.maxQueueWait(), d.mayPreempt(), borrow,
				d.priorityClass());
	}

}
