package dev.tiergate.dispatch;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import dev.tiergate.cluster.InMemoryClusterView;
import dev.tiergate.routing.EndpointRegistry;
import dev.tiergate.routing.MutableClock;
import dev.tiergate.routing.RoutingProperties;
import dev.tiergate.tier.Tier;
import dev.tiergate.tier.TierProperties;
import dev.tiergate.tier.Tiers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Tests for {@link Admission}: a waiting thread and the thread that decides, on a fake
 * clock.
 */
class AdmissionTests {

	private final MutableClock clock = new MutableClock(Instant.parse("2026-11-29T12:00:00Z"));

	private final InMemoryClusterView cluster = new InMemoryClusterView();

	private final DispatchRuntime runtime = new DispatchRuntime(
			new EndpointRegistry(this.cluster, RoutingProperties.withSlots(1, Map.of())),
			new Tiers(TierProperties.DEFAULTS), new DispatchProperties(2, 1000, Duration.ofSeconds(1)), this.clock,
			new SimpleMeterRegistry());

	@Test
	void aQueuedRequestSleepsUntilItsExactDeadlineWithoutPeriodicWakeUpsThenTimesOut() throws Exception {
		this.cluster.upsert(InMemoryClusterView.pod("a", "m", 1));
		try (Admission holder = this.runtime.admit("m", Tier.P1, "t", 1, 10)) {
			holder.awaitSlot();
			CompletableFuture<Admission> admitted = new CompletableFuture<>();
			CompletableFuture<Object> waiter = CompletableFuture.supplyAsync(() -> {
				// The thread that is admitted is the one that waits.
				try (Admission waiting = this.runtime.admit("m", Tier.P1, "t", 1, 10)) {
					admitted.complete(waiting);
					return waiting.awaitSlot();
				}
				catch (Admission.Rejected ex) {
					return ex.reason();
				}
				catch (InterruptedException ex) {
					return ex;
				}
			});
			// P1 waits up to 10 s (fake time): in the meantime the waiter must not wake.
			await().during(Duration.ofMillis(600)).atMost(Duration.ofSeconds(2)).until(() -> !waiter.isDone());
			assertThat(admitted.get().idleWakeups).isZero();
			this.clock.advance(Duration.ofSeconds(10));
			this.runtime.expireWaiting();
			assertThat(waiter.get(5, TimeUnit.SECONDS)).isEqualTo(RejectReason.QUEUE_TIMEOUT);
		}
	}

	@Test
	void aZeroBoundedWaitReturnsNothingWhenNoSlotIsFreeAndNoLeaseCanBePreempted() throws Exception {
		this.cluster.upsert(InMemoryClusterView.pod("a", "m", 1));
		try (Admission holder = this.runtime.admit("m", Tier.P1, "t", 1, 10)) {
			holder.awaitSlot();
			try (Admission waiting = this.runtime.admit("m", Tier.P1, "t", 1, 10)) {
				assertThat(waiting.awaitSlot(Duration.ZERO)).isNull();
				// Still queued: the caller decides whether it leaves.
				assertThat(this.runtime.snapshots().get(0).queued()).isEqualTo(1);
			}
			assertThat(this.runtime.snapshots().get(0).queued()).isZero();
		}
	}

	@Test
	void aZeroBoundedWaitTakesTheSlotPreemptedForIt() throws Exception {
		this.cluster.upsert(InMemoryClusterView.pod("a", "m", 1));
		try (Admission holder = this.runtime.admit("m", Tier.P2, "t", 1, 10)) {
			holder.awaitSlot();
			try (Admission urgent = this.runtime.admit("m", Tier.P0, "t", 1, 10)) {
				assertThat(urgent.awaitSlot(Duration.ZERO)).isNotNull();
			}
		}
	}

	@Test
	void aBoundedWaitGivesUpWhenItsLimitHasPassedOnThePoolsClock() throws Exception {
		this.cluster.upsert(InMemoryClusterView.pod("a", "m", 1));
		try (Admission holder = this.runtime.admit("m", Tier.P1, "t", 1, 10)) {
			holder.awaitSlot();
			CompletableFuture<Optional<Admission.Running>> waiter = CompletableFuture.supplyAsync(() -> {
				try (Admission waiting = this.runtime.admit("m", Tier.P1, "t", 1, 10)) {
					return Optional.ofNullable(waiting.awaitSlot(Duration.ofMillis(200)));
				}
				catch (Exception ex) {
					throw new IllegalStateException(ex);
				}
			});
			await().during(Duration.ofMillis(400)).atMost(Duration.ofSeconds(2)).until(() -> !waiter.isDone());
			this.clock.advance(Duration.ofMillis(200));
			assertThat(waiter.get(5, TimeUnit.SECONDS)).isEmpty();
		}
	}

	@Test
	void aWaiterPastItsDeadlineWhoseTicketWasDispatchedTakesTheLeaseInsteadOfSpinning() throws Exception {
		this.cluster.upsert(InMemoryClusterView.pod("a", "m", 1));
		Admission holder = this.runtime.admit("m", Tier.P1, "t", 1, 10);
		holder.awaitSlot();
		CompletableFuture<Admission> admitted = new CompletableFuture<>();
		CompletableFuture<Admission.Running> waiter = CompletableFuture.supplyAsync(() -> {
			try {
				Admission waiting = this.runtime.admit("m", Tier.P1, "t", 1, 10);
				admitted.complete(waiting);
				return waiting.awaitSlot();
			}
			catch (Exception ex) {
				throw new IllegalStateException(ex);
			}
		});
		await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> !waiter.isDone());
		// The slot frees and is handed over at the very moment the deadline passes.
		this.clock.advance(Duration.ofSeconds(9));
		holder.close();
		this.clock.advance(Duration.ofSeconds(5));
		Admission.Running running = waiter.get(5, TimeUnit.SECONDS);
		assertThat(running.endpoint().key()).isEqualTo("default/a");
		assertThat(admitted.get().idleWakeups).isZero();
		admitted.get().close();
		assertThat(this.runtime.snapshots().get(0).used()).isZero();
	}

	@Test
	void aDecisionOfferedWhileTheWaiterTakesThePreviousOneIsNeverLost() throws Exception {
		this.cluster.upsert(InMemoryClusterView.pod("a", "m", 1));
		Admission admission = this.runtime.admit("m", Tier.P1, "t", 1, 10);
		Admission.Running lease = admission.awaitSlot();
		Thread self = Thread.currentThread();
		for (int i = 0; i < 20_000; i++) {
			Admission.Running first = new Admission.Running(lease.lease, Duration.ZERO);
			Admission.Running second = new Admission.Running(lease.lease, Duration.ZERO);
			// The pool decides twice (a re-dispatch) while this thread takes the first.
			CompletableFuture<Void> pool = CompletableFuture.runAsync(() -> {
				admission.offer(first);
				admission.offer(second);
			});
			Admission.Running taken = admission.awaitSlot();
			pool.get();
			if (taken == first) {
				CompletableFuture<Void> watchdog = CompletableFuture.runAsync(self::interrupt,
						CompletableFuture.delayedExecutor(2, TimeUnit.SECONDS));
				try {
					assertThat(admission.awaitSlot()).as("iteration %d", i).isSameAs(second);
				}
				finally {
					watchdog.cancel(false);
					Thread.interrupted();
				}
			}
			else {
				assertThat(taken).isSameAs(second);
			}
		}
		admission.close();
	}

	@Test
	void anAbandonedQueuedRequestWakesAtOnceAndLeavesTheQueueWithoutEverBeingDispatched() throws Exception {
		this.cluster.upsert(InMemoryClusterView.pod("a", "m", 1));
		try (Admission holder = this.runtime.admit("m", Tier.P1, "t", 1, 10)) {
			holder.awaitSlot();
			CompletableFuture<Admission> admitted = new CompletableFuture<>();
			CompletableFuture<Object> waiter = CompletableFuture.supplyAsync(() -> {
				try (Admission waiting = this.runtime.admit("m", Tier.P1, "u", 1, 10)) {
					admitted.complete(waiting);
					return waiting.awaitSlot();
				}
				catch (Admission.Abandoned ex) {
					return ex;
				}
				catch (Exception ex) {
					return ex;
				}
			});
			await().atMost(Duration.ofSeconds(2)).until(() -> this.runtime.snapshots().get(0).queued() == 1);
			// The client leaves, long before the tier's deadline (fake time does not
			// move).
			admitted.get().abandon();
			assertThat(waiter.get(5, TimeUnit.SECONDS)).isInstanceOf(Admission.Abandoned.class);
			PoolSnapshot pool = this.runtime.snapshots().get(0);
			assertThat(pool.queued()).isZero();
			assertThat(pool.tiers().get(Tier.P1).admitted()).as("the holder only").isEqualTo(1);
		}
		// The slot it would have had goes to nobody.
		assertThat(this.runtime.snapshots().get(0).used()).isZero();
	}

	@Test
	void abandoningARunningRequestAbortsItsUpstreamCallAndCloseFreesTheSlot() throws Exception {
		this.cluster.upsert(InMemoryClusterView.pod("a", "m", 1));
		Admission admission = this.runtime.admit("m", Tier.P1, "t", 1, 10);
		Admission.Running running = admission.awaitSlot();
		CompletableFuture<Void> aborted = new CompletableFuture<>();
		running.onPreempt(() -> aborted.complete(null));
		admission.abandon();
		aborted.get(1, TimeUnit.SECONDS);
		assertThat(running.abandoned()).isTrue();
		assertThat(running.preempted()).isFalse();
		// An abort registered after the client left runs at once.
		CompletableFuture<Void> late = new CompletableFuture<>();
		running.onPreempt(() -> late.complete(null));
		assertThat(late).isDone();
		admission.close();
		assertThat(this.runtime.snapshots().get(0).used()).isZero();
	}

	@Test
	void aRequestRetriedElsewhereReportsItsTimeInLineNotItsFailedAttemptsRunTime() throws Exception {
		this.cluster.upsert(InMemoryClusterView.pod("a", "m", 1));
		this.cluster.upsert(InMemoryClusterView.pod("b", "m", 1));
		try (Admission admission = this.runtime.admit("m", Tier.P0, "t", 1, 10)) {
			this.clock.advance(Duration.ofMillis(300));
			Admission.Running first = admission.awaitSlot();
			assertThat(first.queued()).isZero();
			// Its endpoint stalls for five seconds before the retry.
			this.clock.advance(Duration.ofSeconds(5));
			admission.retryElsewhere();
			Admission.Running second = admission.awaitSlot();
			assertThat(second.endpoint().key()).isNotEqualTo(first.endpoint().key());
			assertThat(second.queued()).as("dispatched again at once").isZero();
		}
	}

	@Test
	void aRequestThatSteppedOutRejoinsWithTheDeadlineItHadAndIsServedWhenASlotFrees() throws Exception {
		this.cluster.upsert(InMemoryClusterView.pod("a", "m", 1));
		Admission holder = this.runtime.admit("m", Tier.P1, "t", 1, 10);
		holder.awaitSlot();
		try (Admission waiting = this.runtime.admit("m", Tier.P1, "t", 1, 10)) {
			assertThat(waiting.awaitSlot(Duration.ZERO)).isNull();
			waiting.stepOut();
			assertThat(this.runtime.snapshots().get(0).queued()).isZero();
			// A slot freed while it is out is not kept for it.
			holder.close();
			assertThat(this.runtime.snapshots().get(0).free()).isOne();
			holder = this.runtime.admit("m", Tier.P1, "t", 1, 10);
			holder.awaitSlot();
			this.clock.advance(Duration.ofSeconds(4));
			waiting.rejoin();
			waiting.rejoin();
			assertThat(this.runtime.snapshots().get(0).queued()).isOne();
			holder.close();
			assertThat(waiting.awaitSlot().endpoint().key()).contains("a");
		}
		assertThat(this.runtime.snapshots().get(0).free()).isOne();
	}

	@Test
	void aRejoinedRequestWaitsUntilItsTiersDeadlineFromItsArrivalNotFromItsReturn() throws Exception {
		this.cluster.upsert(InMemoryClusterView.pod("a", "m", 1));
		try (Admission holder = this.runtime.admit("m", Tier.P1, "t", 1, 10)) {
			holder.awaitSlot();
			try (Admission waiting = this.runtime.admit("m", Tier.P1, "t", 1, 10)) {
				assertThat(waiting.awaitSlot(Duration.ZERO)).isNull();
				waiting.stepOut();
				this.clock.advance(Duration.ofSeconds(4));
				waiting.rejoin();
				// P1 waits 10 s: 6 s are left.
				this.clock.advance(Duration.ofSeconds(6).minusMillis(1));
				this.runtime.expireWaiting();
				assertThat(this.runtime.snapshots().get(0).queued()).isOne();
				this.clock.advance(Duration.ofMillis(1));
				this.runtime.expireWaiting();
				assertThatThrownBy(waiting::awaitSlot).isInstanceOfSatisfying(Admission.Rejected.class,
						(rejected) -> assertThat(rejected.reason()).isEqualTo(RejectReason.QUEUE_TIMEOUT));
			}
		}
	}

	@Test
	void aRequestThatRejoinsPastItsDeadlineIsTurnedAwayAtOnceEvenWithAFreeSlot() throws Exception {
		this.cluster.upsert(InMemoryClusterView.pod("a", "m", 1));
		Admission holder = this.runtime.admit("m", Tier.P0, "t", 1, 10);
		holder.awaitSlot();
		try (Admission waiting = this.runtime.admit("m", Tier.P0, "t", 1, 10)) {
			assertThat(waiting.awaitSlot(Duration.ZERO)).isNull();
			waiting.stepOut();
			this.clock.advance(Duration.ofSeconds(2));
			holder.close();
			waiting.rejoin();
			assertThatThrownBy(waiting::awaitSlot).isInstanceOfSatisfying(Admission.Rejected.class,
					(rejected) -> assertThat(rejected.reason()).isEqualTo(RejectReason.QUEUE_TIMEOUT));
		}
		assertThat(this.runtime.snapshots().get(0).free()).isOne();
		assertThat(this.runtime.snapshots().get(0).queued()).isZero();
	}

}
