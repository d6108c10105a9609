package dev.tiergate.dispatch;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.tiergate.routing.BalancingPolicy;
import dev.tiergate.tier.Tier;
import dev.tiergate.tier.TierDefinition;
import dev.tiergate.tier.TierProperties;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link PoolScheduler}'s routing seam: the balancing policy picks where a
 * lease runs, never whether it runs; a request that failed before it sent anything is
 * retried elsewhere with its slot released exactly once.
 */
class PoolSchedulerPolicyTests {

	private final RecordingDecisions decisions = new RecordingDecisions();

	private final Map<Tier, TierDefinition> tiers = new EnumMap<>(TierProperties.DEFAULTS);

	private long now = 0;

	/**
	 * A policy that picks the candidate with the most leases (so it differs from the
	 * default) and records calls.
	 */
	private static final class MostLoaded implements BalancingPolicy {

		final List<Long> keys = new ArrayList<>();

		final List<Long> times = new ArrayList<>();

		@Override
		public int choose(long affinityKey, Candidates candidates) {
			this.keys.add(affinityKey);
			this.times.add(candidates.now());
			int best = 0;
			for (int i = 1; i < candidates.size(); i++) {
				if (candidates.inFlight(i) > candidates.inFlight(best)) {
					best = i;
				}
			}
			return best;
		}

	}

	private PoolScheduler scheduler(BalancingPolicy policy) {
		PoolScheduler scheduler = new PoolScheduler("m", this.tiers, 2, 1000, this.decisions, policy);
		for (int i = 0; i < 3; i++) {
			scheduler.upsertEndpoint("e" + i, 4, true, null, this.now);
		}
		return scheduler;
	}

	private Ticket submit(PoolScheduler scheduler, Tier tier, long key) {
		Ticket ticket = new Ticket("t", tier, 100, 1, key);
		scheduler.submit(ticket, this.now);
		return ticket;
	}

	@Test
	void withoutAPolicyLeasesGoToTheLeastOutstandingEndpoint() {
		PoolScheduler scheduler = scheduler(null);
		List<String> endpoints = new ArrayList<>();
		for (int i = 0; i < 6; i++) {
			endpoints.add(submit(scheduler, Tier.P1, 0).lease().endpointId());
		}
		assertThat(endpoints).containsExactly("e0", "e1", "e2", "e0", "e1", "e2");
	}

	@Test
	void aPolicyPicksWhereLeasesRunWithTheTicketsKeyAndTheEventsTime() {
		MostLoaded policy = new MostLoaded();
		PoolScheduler scheduler = scheduler(policy);
		this.now = 42;
		List<String> endpoints = new ArrayList<>();
		for (int i = 0; i < 5; i++) {
			endpoints.add(submit(scheduler, Tier.P1, 7).lease().endpointId());
		}
		// e0 fills up to its 4 slots, then leaves the candidates (no free slot), and the
		// next one fills.
		assertThat(endpoints.subList(0, 4)).containsOnly(endpoints.get(0));
		assertThat(endpoints.get(4)).isNotEqualTo(endpoints.get(0));
		assertThat(policy.keys).containsOnly(7L);
		assertThat(policy.times).containsOnly(42L);
	}

	@Test
	void aPolicyDecidesOnlyWhereNotWhether() {
		MostLoaded policy = new MostLoaded();
		PoolScheduler withPolicy = scheduler(policy);
		PoolScheduler without = scheduler(null);
		for (int i = 0; i < 14; i++) {
			Tier tier = Tier.values()[i % 3];
			submit(withPolicy, tier, i);
			submit(without, tier, i);
		}
		PoolSnapshot a = withPolicy.snapshot(this.now);
		PoolSnapshot b = without.snapshot(this.now);
		assertThat(a.used()).isEqualTo(b.used());
		assertThat(a.queued()).isEqualTo(b.queued());
		for (Tier tier : Tier.values()) {
			assertThat(a.tiers().get(tier).inFlight()).isEqualTo(b.tiers().get(tier).inFlight());
		}
	}

	@Test
	void aPolicyAnswerOutOfRangeMeansTheLeastOutstandingEndpoint() {
		PoolScheduler scheduler = scheduler((key, candidates) -> 99);
		assertThat(submit(scheduler, Tier.P1, 1).lease().endpointId()).isEqualTo("e0");
	}

	@Test
	void aRetriedTicketRunsOnAnotherEndpointAndItsFirstSlotIsReleasedOnce() {
		PoolScheduler scheduler = scheduler(null);
		Ticket ticket = submit(scheduler, Tier.P1, 0);
		Lease first = ticket.lease();
		assertThat(first.endpointId()).isEqualTo("e0");
		this.decisions.take();

		assertThat(scheduler.retryElsewhere(first, this.now)).isTrue();

		assertThat(first.active()).isFalse();
		assertThat(ticket.lease().endpointId()).as("e0 is the least loaded but failed it").isNotEqualTo("e0");
		assertThat(scheduler.used()).isEqualTo(1);
		assertThat(ticket.preemptionsLeft()).as("a retry is not a preemption").isEqualTo(2);
		assertThat(scheduler.snapshot(this.now).tiers().get(Tier.P1).admitted()).isEqualTo(1);
		assertThat(scheduler.retried(Tier.P1)).isEqualTo(1);
		// The old lease is gone for good: finishing or retrying it again changes nothing.
		assertThat(scheduler.retryElsewhere(first, this.now)).isFalse();
		assertThat(scheduler.finish(first, this.now)).isFalse();
		assertThat(scheduler.finish(ticket.lease(), this.now)).isTrue();
		assertThat(scheduler.used()).isZero();
	}

	@Test
	void aRetriedTicketAvoidsTheFailedEndpointUnderAPolicyToo() {
		PoolScheduler scheduler = scheduler((key, candidates) -> 0);
		Ticket ticket = submit(scheduler, Tier.P1, 0);
		String failed = ticket.lease().endpointId();
		scheduler.retryElsewhere(ticket.lease(), this.now);
		assertThat(ticket.lease().endpointId()).isNotEqualTo(failed);
	}

	@Test
	void aRetryGoesBackToTheSameEndpointOnlyWhenNoOtherHasRoom() {
		PoolScheduler scheduler = new PoolScheduler("m", this.tiers, 2, 1000, this.decisions, null);
		scheduler.upsertEndpoint("only", 2, true, null, this.now);
		Ticket ticket = submit(scheduler, Tier.P1, 0);
		scheduler.retryElsewhere(ticket.lease(), this.now);
		assertThat(ticket.lease().endpointId()).isEqualTo("only");
	}

	@Test
	void aRequestThatHasSentSomethingIsNotRetried() {
		PoolScheduler scheduler = scheduler(null);
		Ticket ticket = submit(scheduler, Tier.P1, 0);
		scheduler.markSent(ticket.lease());
		assertThat(scheduler.retryElsewhere(ticket.lease(), this.now)).isFalse();
		assertThat(ticket.lease().active()).isTrue();
	}

	@Test
	void aRetryWithNoAcceptingEndpointLeftIsRejectedAtOnce() {
		PoolScheduler scheduler = new PoolScheduler("m", this.tiers, 2, 1000, this.decisions, null);
		scheduler.upsertEndpoint("only", 2, true, null, this.now);
		Ticket ticket = submit(scheduler, Tier.P1, 0);
		Lease lease = ticket.lease();
		// Passive health ejects the endpoint that failed it.
		scheduler.upsertEndpoint("only", 2, false, null, this.now);
		this.decisions.take();
		scheduler.retryElsewhere(lease, this.now);
		assertThat(this.decisions.take()).singleElement()
			.satisfies((d) -> assertThat(d.reason()).isEqualTo(RejectReason.NO_CAPACITY));
		assertThat(ticket.state()).isEqualTo(Ticket.State.DONE);
		assertThat(scheduler.used()).isZero();
	}

	@Test
	void preemptionStillRunsTheWinnerOnTheVictimsEndpointUnderAPolicy() {
		MostLoaded policy = new MostLoaded();
		PoolScheduler scheduler = new PoolScheduler("m", this.tiers, 2, 1000, this.decisions, policy);
		for (int i = 0; i < 10; i++) {
			scheduler.upsertEndpoint("e" + i, 1, true, null, this.now);
		}
		for (int i = 0; i < 10; i++) {
			submit(scheduler, Tier.P2, 0);
		}
		this.decisions.take();
		submit(scheduler, Tier.P0, 0);
		List<RecordingDecisions.Decision> made = this.decisions.take();
		assertThat(made).extracting(RecordingDecisions.Decision::kind).containsExactly("preempted", "dispatched");
		assertThat(made.get(1).lease().endpointId()).isEqualTo(made.get(0).lease().endpointId());
	}

}
