package dev.tiergate.proxy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import dev.tiergate.tier.Tier;
import dev.tiergate.tier.TierDefinition;
import dev.tiergate.tier.TierProperties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * Tests for {@link OpenRequests}: the tiers' reserved shares of the replica, the default
 * limit from the heap, and the limit under racing threads.
 */
class OpenRequestsTests {

	private static final Duration RETRY = Duration.ofSeconds(1);

	private static Map<Tier, TierDefinition> shares(double p0, double p1, double p2) {
		Map<Tier, TierDefinition> tiers = new EnumMap<>(TierProperties.DEFAULTS);
		tiers.put(Tier.P0, share(Tier.P0, p0));
		tiers.put(Tier.P1, share(Tier.P1, p1));
		tiers.put(Tier.P2, share(Tier.P2, p2));
		return tiers;
	}

	private static TierDefinition share(Tier tier, double share) {
		TierDefinition base = TierProperties.DEFAULTS.get(tier);
		return new TierDefinition(share, base.maxQueueDepth(), base.maxQueueWait(), base.mayPreempt(), base.borrow(),
				base.priorityClass());
	}

	@Test
	void eachTierIsKeptOutOfTheSharesReservedForTheTiersAboveIt() {
		OpenRequests open = new OpenRequests(100, shares(0.3, 0.1, 0.0), RETRY);
		assertThat(open.limit(Tier.P0)).isEqualTo(100);
		assertThat(open.limit(Tier.P1)).isEqualTo(70);
		assertThat(open.limit(Tier.P2)).isEqualTo(60);
		// The built-in tiers: P0 keeps 30%, P1 and P2 share the rest.
		OpenRequests builtIn = new OpenRequests(4, TierProperties.DEFAULTS, RETRY);
		assertThat(builtIn.limit(Tier.P0)).isEqualTo(4);
		assertThat(builtIn.limit(Tier.P1)).isEqualTo(2);
		assertThat(builtIn.limit(Tier.P2)).isEqualTo(2);
		// Rounded as slots are (the reserve up), and never below one.
		assertThat(new OpenRequests(1, TierProperties.DEFAULTS, RETRY).limit(Tier.P2)).isEqualTo(1);
	}

	@Test
	void aFloodOfBatchRequestsLeavesP0ItsShare() {
		OpenRequests open = new OpenRequests(10, TierProperties.DEFAULTS, RETRY);
		int batch = 0;
		while (open.tryOpen(Tier.P2)) {
			batch++;
		}
		assertThat(batch).isEqualTo(7);
		assertThat(open.tryOpen(Tier.P1)).isFalse();
		for (int i = 0; i < 3; i++) {
			assertThat(open.tryOpen(Tier.P0)).isTrue();
		}
		assertThat(open.tryOpen(Tier.P0)).isFalse();
		assertThat(open.open()).isEqualTo(10);
		open.close();
		assertThat(open.tryOpen(Tier.P2)).as("P0 holds 3 of the 7 P2 may use with it").isFalse();
		assertThat(open.tryOpen(Tier.P0)).isTrue();
		for (int i = 0; i < 4; i++) {
			open.close();
		}
		assertThat(open.open()).isEqualTo(6);
		assertThat(open.tryOpen(Tier.P2)).isTrue();
	}

	@Test
	void followsNewTierDefinitions() {
		OpenRequests open = new OpenRequests(10, TierProperties.DEFAULTS, RETRY);
		open.tiersChanged(shares(0.5, 0.2, 0.0));
		assertThat(open.limit(Tier.P1)).isEqualTo(5);
		assertThat(open.limit(Tier.P2)).isEqualTo(3);
		assertThat(open.limit()).isEqualTo(10);
	}

	@Test
	void theDefaultLimitIsWhatTheHeapHoldsBeyondItsBaseline() {
		assertThat(OpenRequests.defaultLimit(1024L * 1024 * 1024)).isEqualTo(8192);
		assertThat(OpenRequests.defaultLimit(768L * 1024 * 1024)).isEqualTo(5461);
		assertThat(OpenRequests.defaultLimit(4L * 1024 * 1024 * 1024)).isEqualTo(40_960);
		assertThat(OpenRequests.defaultLimit(260L * 1024 * 1024)).isEqualTo(OpenRequests.MIN_DEFAULT_LIMIT);
		assertThat(OpenRequests.defaultLimit(Long.MAX_VALUE)).isEqualTo(Integer.MAX_VALUE);
		assertThatIllegalArgumentException().isThrownBy(() -> new OpenRequests(0, TierProperties.DEFAULTS, RETRY));
	}

	/**
	 * Eight threads race to open batch requests up to the limit, round after round, with
	 * seeded pauses between their attempts: exactly the tier's limit is opened each
	 * round.
	 */
	@Test
	void racingThreadsNeverOpenMoreThanTheLimit() throws Exception {
		ExecutorService threads = Executors.newFixedThreadPool(8);
		try {
			for (int round = 0; round < 200; round++) {
				OpenRequests open = new OpenRequests(40, TierProperties.DEFAULTS, RETRY);
				CountDownLatch start = new CountDownLatch(1);
				AtomicInteger opened = new AtomicInteger();
				List<Future<?>> racers = new ArrayList<>();
				for (int t = 0; t < 8; t++) {
					Random random = new Random(round * 31L + t);
					racers.add(threads.submit(() -> {
						start.await();
						for (int attempt = 0; attempt < 20; attempt++) {
							if (open.tryOpen(Tier.P2)) {
								opened.incrementAndGet();
							}
							if (random.nextInt(4) == 0) {
								Thread.onSpinWait();
							}
						}
						return null;
					}));
				}
				start.countDown();
				for (Future<?> racer : racers) {
					racer.get(10, TimeUnit.SECONDS);
				}
				assertThat(opened.get()).as("round %d", round).isEqualTo(open.limit(Tier.P2)).isEqualTo(28);
				assertThat(open.open()).isEqualTo(28);
			}
		}
		finally {
			threads.shutdownNow();
		}
	}

	/**
	 * Threads open and close requests of random tiers (seeded) while a watcher reads the
	 * count: it never passes the limit, and every request closed brings it back to zero.
	 */
	@Test
	void openingAndClosingUnderContentionLosesNothing() throws Exception {
		OpenRequests open = new OpenRequests(16, TierProperties.DEFAULTS, RETRY);
		ExecutorService threads = Executors.newFixedThreadPool(9);
		try {
			AtomicInteger highest = new AtomicInteger();
			CountDownLatch done = new CountDownLatch(8);
			Future<?> watcher = threads.submit(() -> {
				while (done.getCount() > 0) {
					highest.accumulateAndGet(open.open(), Math::max);
				}
				return null;
			});
			List<Future<?>> workers = new ArrayList<>();
			for (int t = 0; t < 8; t++) {
				Random random = new Random(7L * t + 1);
				workers.add(threads.submit(() -> {
					try {
						int held = 0;
						for (int i = 0; i < 50_000; i++) {
							if (held > 0 && random.nextBoolean()) {
								open.close();
								held--;
							}
							else if (open.tryOpen(Tier.values()[random.nextInt(3)])) {
								held++;
							}
						}
						for (; held > 0; held--) {
							open.close();
						}
					}
					finally {
						done.countDown();
					}
					return null;
				}));
			}
			for (Future<?> worker : workers) {
				worker.get(60, TimeUnit.SECONDS);
			}
			watcher.get(10, TimeUnit.SECONDS);
			assertThat(highest.get()).isBetween(1, 16);
			assertThat(open.open()).isZero();
		}
		finally {
			threads.shutdownNow();
		}
	}

}
