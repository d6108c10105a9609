package dev.tiergate.dispatch;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

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
import static org.assertj.core.api.Assertions.within;

/**
 * Tests for {@link WaitHistory}: per-pool recorders, percentiles computed by the reader.
 */
class WaitHistoryTests {

	private static final long T0 = Instant.parse("2026-11-29T12:00:00Z").toEpochMilli();

	private final WaitHistory history = new WaitHistory(Duration.ofSeconds(15), 20);

	@Test
	void theCurrentIntervalGivesItsWaitsPercentiles() {
		WaitHistory.PoolWaits pool = this.history.pool("m");
		for (int ms = 1; ms <= 100; ms++) {
			pool.record(Tier.P1, T0 + 1_000, ms * 1_000_000L);
		}
		List<WaitHistory.Point> points = this.history.percentiles(T0 + 2_000).get(Tier.P1);
		assertThat(points).hasSize(20);
		WaitHistory.Point last = points.get(19);
		assertThat(last.endMillis()).isEqualTo(T0 + 15_000);
		assertThat(last.samples()).isEqualTo(100);
		assertThat(last.p50()).isCloseTo(50, within(0.1));
		assertThat(last.p95()).isCloseTo(95, within(0.1));
		assertThat(last.p99()).isCloseTo(99, within(0.1));
		assertThat(points.subList(0, 19)).allSatisfy((point) -> assertThat(point.samples()).isZero());
		assertThat(this.history.percentiles(T0 + 2_000).get(Tier.P0))
			.allSatisfy((point) -> assertThat(point.samples()).isZero());
	}

	@Test
	void poolsAreChartedTogetherPerTierAndInterval() {
		this.history.pool("a").record(Tier.P0, T0, 10_000_000);
		this.history.pool("b").record(Tier.P0, T0 + 14_999, 30_000_000);
		this.history.pool("b").record(Tier.P0, T0 + 15_000, 20_000_000);
		List<WaitHistory.Point> points = this.history.percentiles(T0 + 15_000).get(Tier.P0);
		assertThat(points.get(18).samples()).isEqualTo(2);
		assertThat(points.get(18).p99()).isCloseTo(30, within(0.05));
		assertThat(points.get(19).samples()).isEqualTo(1);
		assertThat(points.get(19).p50()).isCloseTo(20, within(0.05));
	}

	@Test
	void readingAgainNeitherLosesNorCountsTwice() {
		WaitHistory.PoolWaits pool = this.history.pool("m");
		pool.record(Tier.P2, T0, 5_000_000);
		assertThat(this.history.percentiles(T0).get(Tier.P2).get(19).samples()).isEqualTo(1);
		assertThat(this.history.percentiles(T0).get(Tier.P2).get(19).samples()).isEqualTo(1);
		pool.record(Tier.P2, T0 + 10, 7_000_000);
		assertThat(this.history.percentiles(T0 + 20).get(Tier.P2).get(19).samples()).isEqualTo(2);
	}

	@Test
	void intervalsOlderThanTheWindowAreForgottenAndLateWaitsDropped() {
		WaitHistory.PoolWaits pool = this.history.pool("m");
		pool.record(Tier.P1, T0, 1_000_000);
		long later = T0 + 21 * 15_000;
		// Same ring slot, 21 intervals later: the old interval is replaced.
		pool.record(Tier.P1, later, 2_000_000);
		// A wait stamped before the ring's oldest interval (a clock that went back).
		pool.record(Tier.P1, T0, 3_000_000);
		List<WaitHistory.Point> points = this.history.percentiles(later).get(Tier.P1);
		assertThat(points.stream().mapToLong(WaitHistory.Point::samples).sum()).isEqualTo(1);
		assertThat(points.get(19).p50()).isCloseTo(2, within(0.01));
		assertThat(this.history.percentiles(T0).get(Tier.P1).get(19).samples()).isZero();
	}

	@Test
	void concurrentWritersInSeveralPoolsAndReadersCountEveryWaitOnce() throws Exception {
		int writers = 4;
		int perWriter = 50_000;
		AtomicBoolean done = new AtomicBoolean();
		CountDownLatch start = new CountDownLatch(1);
		List<CompletableFuture<Void>> tasks = new ArrayList<>();
		for (int w = 0; w < writers; w++) {
			WaitHistory.PoolWaits pool = this.history.pool("pool-" + (w % 2));
			tasks.add(CompletableFuture.runAsync(() -> {
				await(start);
				for (int i = 0; i < perWriter; i++) {
					pool.record(Tier.P1, T0 + (i % 15_000), (i % 1000) * 1_000_000L);
				}
			}));
		}
		CompletableFuture<Void> reader = CompletableFuture.runAsync(() -> {
			await(start);
			while (!done.get()) {
				this.history.percentiles(T0 + 1);
			}
		});
		start.countDown();
		CompletableFuture.allOf(tasks.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
		done.set(true);
		reader.get(10, TimeUnit.SECONDS);
		assertThat(this.history.percentiles(T0 + 1).get(Tier.P1).get(19).samples())
			.isEqualTo((long) writers * perWriter);
	}

	@Test
	void aReaderOfTheHistoryHoldsUpNoPoolsDispatch() throws Exception {
		MutableClock clock = new MutableClock(Instant.ofEpochMilli(T0));
		InMemoryClusterView cluster = new InMemoryClusterView();
		DispatchRuntime runtime = new DispatchRuntime(
				new EndpointRegistry(cluster, RoutingProperties.withSlots(1, Map.of())),
				new Tiers(TierProperties.DEFAULTS), new DispatchProperties(2, 1000, Duration.ofSeconds(1)), clock,
				new SimpleMeterRegistry());
		cluster.upsert(InMemoryClusterView.pod("a", "m", 1));
		clock.advance(Duration.ofMillis(40));
		// A dashboard poll in progress: whatever the reader holds, dispatch goes on.
		synchronized (runtime.waits()) {
			CompletableFuture<Boolean> dispatched = CompletableFuture.supplyAsync(() -> {
				try (Admission admission = runtime.admit("m", Tier.P0, "t", 1, 10)) {
					return admission.awaitSlot() != null;
				}
				catch (Exception ex) {
					return false;
				}
			});
			assertThat(dispatched.get(5, TimeUnit.SECONDS)).isTrue();
		}
		assertThat(runtime.waits().percentiles(clock.millis()).get(Tier.P0).get(19).samples()).isEqualTo(1);
	}

	private static void await(CountDownLatch latch) {
		try {
			latch.await();
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

}
