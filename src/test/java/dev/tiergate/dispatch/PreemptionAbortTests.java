package dev.tiergate.dispatch;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
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
import static org.awaitility.Awaitility.await;

/**
 * Tests for {@link DispatchRuntime}: a request that takes a preempted request's slot is
 * handed its slot only after the preempted request's upstream call has been aborted.
 */
class PreemptionAbortTests {

	private final MutableClock clock = new MutableClock(Instant.parse("2026-11-29T12:00:00Z"));

	private final InMemoryClusterView cluster = new InMemoryClusterView();

	private final Tiers tiers = new Tiers(TierProperties.DEFAULTS);

	private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

	/** Threads of their own (the common pool may have one thread on a small machine). */
	private final java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors
		.newVirtualThreadPerTaskExecutor();

	private final DispatchRuntime runtime = new DispatchRuntime(
			new EndpointRegistry(this.cluster, RoutingProperties.withSlots(1, Map.of())), this.tiers,
			new DispatchProperties(2, 1000, Duration.ofSeconds(1)), this.clock, this.meters);

	@Test
	void theSlotIsHandedOnOnlyAfterTheDisplacedCallIsAborted() throws Exception {
		this.cluster.upsert(InMemoryClusterView.pod("a", "m", 1));
		// P0 reserves nothing and may not preempt at first, so it waits on its own
		// thread behind P2.
		this.tiers.update(Map.of(Tier.P0, new TierProperties.Override(0.0, null, null, Set.of(), null, null)));
		Admission batch = this.runtime.admit("m", Tier.P2, "batch", 1, 10);
		Admission.Running displaced = batch.awaitSlot();
		CountDownLatch aborting = new CountDownLatch(1);
		CountDownLatch abortMayEnd = new CountDownLatch(1);
		displaced.onPreempt(() -> {
			aborting.countDown();
			try {
				abortMayEnd.await(5, TimeUnit.SECONDS);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		});
		CompletableFuture<Admission.Running> realtime = CompletableFuture.supplyAsync(() -> {
			try {
				return this.runtime.admit("m", Tier.P0, "app", 1, 10).awaitSlot();
			}
			catch (Exception ex) {
				throw new IllegalStateException(ex);
			}
		}, this.threads);
		await().atMost(Duration.ofSeconds(5)).until(() -> this.runtime.snapshots().get(0).queued() == 1);
		// An operator lets P0 preempt P2: the tier change's event preempts and grants.
		CompletableFuture<Void> change = CompletableFuture.runAsync(
				() -> this.tiers.update(
						Map.of(Tier.P0, new TierProperties.Override(null, null, null, Set.of(Tier.P2), null, null))),
				this.threads);
		assertThat(aborting.await(5, TimeUnit.SECONDS)).as(() -> change.state() + " " + this.runtime.snapshots())
			.isTrue();
		await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> !realtime.isDone());
		abortMayEnd.countDown();
		Admission.Running granted = realtime.get(5, TimeUnit.SECONDS);
		change.get(5, TimeUnit.SECONDS);
		assertThat(granted.endpoint().key()).isEqualTo(displaced.endpoint().key());
		assertThat(displaced.preempted()).isTrue();
		assertThat(this.meters.get("tiergate.dispatch.preemption.abort").timer().count()).isEqualTo(1);
	}

}
