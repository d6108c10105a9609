package dev.tiergate.quota;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Tests for {@link SettlementBatcher}: batching, flushing, closing and a stress test,
 * with a recording in place of Redis.
 */
class SettlementBatcherTests {

	private final List<SettlementBatcher> batchers = new ArrayList<>();

	@AfterEach
	void close() {
		this.batchers.forEach(SettlementBatcher::close);
	}

	private SettlementBatcher batcher(int maxBatch,
			java.util.function.Consumer<List<SettlementJournal.Settlement>> apply) {
		return batcher(maxBatch, Duration.ZERO, apply);
	}

	private SettlementBatcher batcher(int maxBatch, Duration linger,
			java.util.function.Consumer<List<SettlementJournal.Settlement>> apply) {
		SettlementBatcher batcher = new SettlementBatcher(maxBatch, linger, apply);
		this.batchers.add(batcher);
		return batcher;
	}

	private static SettlementJournal.Settlement settlement(String tenant, String id) {
		return new SettlementJournal.Settlement(tenant, false, id, 10, 5, "P0", "m", true, 20, "2026-11", false);
	}

	@Test
	void whatEndsWhileACallIsOutIsSettledTogetherInTheNextCallUpToTheBatchSize() throws Exception {
		CountDownLatch firstCall = new CountDownLatch(1);
		CountDownLatch release = new CountDownLatch(1);
		List<List<String>> calls = new CopyOnWriteArrayList<>();
		SettlementBatcher batcher = batcher(64, (batch) -> {
			calls.add(batch.stream().map(SettlementJournal.Settlement::requestId).toList());
			firstCall.countDown();
			await(release);
		});
		batcher.submit(settlement("t", "r0"));
		assertThat(firstCall.await(5, TimeUnit.SECONDS)).isTrue();
		for (int i = 1; i <= 100; i++) {
			batcher.submit(settlement("t", "r" + i));
		}
		assertThat(batcher.pending("t")).isTrue();
		assertThat(batcher.flush(Duration.ofMillis(100))).as("the first call is still out").isFalse();
		release.countDown();
		assertThat(batcher.flush(Duration.ofSeconds(5))).isTrue();
		assertThat(batcher.pending("t")).isFalse();
		assertThat(calls).extracting(List::size).containsExactly(1, 64, 36);
		assertThat(calls.stream().flatMap(List::stream).toList()).as("in the order they ended")
			.isEqualTo(java.util.stream.IntStream.rangeClosed(0, 100).mapToObj((i) -> "r" + i).toList());
	}

	@Test
	void afterAnIdleMomentTheFirstSettlementWaitsTheLingerForOthers() throws Exception {
		List<List<String>> calls = new CopyOnWriteArrayList<>();
		// A linger far longer than the test: only a full batch, a flush or closing ends
		// it.
		SettlementBatcher batcher = batcher(4, Duration.ofMinutes(5),
				(batch) -> calls.add(batch.stream().map(SettlementJournal.Settlement::requestId).toList()));
		for (int i = 1; i <= 3; i++) {
			batcher.submit(settlement("t", "r" + i));
		}
		Thread.sleep(300);
		assertThat(calls).as("lingering").isEmpty();
		assertThat(batcher.pending("t")).isTrue();
		// The fourth fills the batch: applied together, without waiting out the linger.
		batcher.submit(settlement("t", "r4"));
		org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> calls.size() == 1);
		assertThat(calls.get(0)).containsExactly("r1", "r2", "r3", "r4");
		// A reader's flush cuts the next linger short.
		batcher.submit(settlement("t", "r5"));
		assertThat(batcher.flush(Duration.ofSeconds(5))).isTrue();
		assertThat(calls).containsExactly(List.of("r1", "r2", "r3", "r4"), List.of("r5"));
		// And so does closing, which settles what lingers.
		batcher.submit(settlement("t", "r6"));
		batcher.close();
		assertThat(calls).last().isEqualTo(List.of("r6"));
	}

	@Test
	void settlementsThatEndWithinTheLingerShareOneCall() throws Exception {
		List<List<String>> calls = new CopyOnWriteArrayList<>();
		SettlementBatcher batcher = batcher(256, Duration.ofMillis(300),
				(batch) -> calls.add(batch.stream().map(SettlementJournal.Settlement::requestId).toList()));
		for (int i = 1; i <= 5; i++) {
			batcher.submit(settlement("t", "r" + i));
		}
		org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> !calls.isEmpty());
		assertThat(calls).containsExactly(List.of("r1", "r2", "r3", "r4", "r5"));
	}

	@Test
	void pendingIsPerTenant() throws Exception {
		CountDownLatch release = new CountDownLatch(1);
		SettlementBatcher batcher = batcher(16, (batch) -> await(release));
		batcher.submit(settlement("a", "r1"));
		assertThat(batcher.pending("a")).isTrue();
		assertThat(batcher.pending("b")).isFalse();
		release.countDown();
		assertThat(batcher.flush(Duration.ofSeconds(5))).isTrue();
		assertThat(batcher.pending("a")).isFalse();
	}

	@Test
	void closingSettlesWhatWasHandedOverAndThenHandsSettlementsBack() {
		List<String> applied = new CopyOnWriteArrayList<>();
		SettlementBatcher batcher = batcher(8, (batch) -> {
			sleep(20);
			batch.forEach((s) -> applied.add(s.requestId()));
		});
		for (int i = 0; i < 50; i++) {
			assertThat(batcher.submit(settlement("t", "r" + i))).isTrue();
		}
		batcher.close();
		assertThat(applied).hasSize(50).doesNotHaveDuplicates();
		assertThat(batcher.submit(settlement("t", "late"))).as("the caller settles it").isFalse();
		assertThat(applied).doesNotContain("late");
	}

	@Test
	void aFailingApplyDoesNotStopTheThread() {
		AtomicInteger calls = new AtomicInteger();
		SettlementBatcher batcher = batcher(8, (batch) -> {
			if (calls.incrementAndGet() == 1) {
				throw new IllegalStateException("bug");
			}
		});
		batcher.submit(settlement("t", "r1"));
		assertThat(batcher.flush(Duration.ofSeconds(5))).isTrue();
		batcher.submit(settlement("t", "r2"));
		assertThat(batcher.flush(Duration.ofSeconds(5))).isTrue();
		assertThat(calls).hasValue(2);
		assertThat(batcher.pending("t")).isFalse();
	}

	@Test
	void sixteenThreadsEndingRequestsSettleEachExactlyOnceWhileOthersFlushAndTheBatcherCloses() throws Exception {
		Map<String, AtomicInteger> applied = new ConcurrentHashMap<>();
		List<Integer> sizes = new CopyOnWriteArrayList<>();
		Random seeds = new Random(20261130L);
		SettlementBatcher batcher = batcher(32, (batch) -> {
			sizes.add(batch.size());
			batch.forEach((s) -> applied.computeIfAbsent(s.requestId(), (k) -> new AtomicInteger()).incrementAndGet());
			if (batch.size() % 3 == 0) {
				Thread.onSpinWait();
			}
		});
		List<String> handedBack = new CopyOnWriteArrayList<>();
		ExecutorService threads = Executors.newFixedThreadPool(16);
		CountDownLatch start = new CountDownLatch(1);
		List<Future<?>> done = new ArrayList<>();
		for (int t = 0; t < 16; t++) {
			Random random = new Random(seeds.nextLong());
			int thread = t;
			done.add(threads.submit(() -> {
				start.await();
				for (int i = 0; i < 5_000; i++) {
					SettlementJournal.Settlement s = settlement("tenant-" + random.nextInt(4), thread + "-" + i);
					if (!batcher.submit(s)) {
						handedBack.add(s.requestId());
					}
					if (random.nextInt(500) == 0) {
						batcher.flush(Duration.ofSeconds(5));
					}
				}
				return null;
			}));
		}
		start.countDown();
		Thread.sleep(new Random(7).nextInt(30));
		batcher.close();
		for (Future<?> f : done) {
			f.get(30, TimeUnit.SECONDS);
		}
		threads.shutdown();
		assertThat(applied.size() + handedBack.size()).as("every settlement applied or handed back").isEqualTo(80_000);
		assertThat(applied.values()).allSatisfy((count) -> assertThat(count).hasValue(1));
		assertThat(handedBack).allSatisfy((id) -> assertThat(applied).doesNotContainKey(id));
		assertThat(sizes).allSatisfy((size) -> assertThat(size).isBetween(1, 32));
		for (int t = 0; t < 4; t++) {
			assertThat(batcher.pending("tenant-" + t)).isFalse();
		}
	}

	private static void await(CountDownLatch latch) {
		try {
			latch.await(10, TimeUnit.SECONDS);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	private static void sleep(long millis) {
		try {
			Thread.sleep(millis);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

}
