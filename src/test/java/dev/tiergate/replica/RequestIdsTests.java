package dev.tiergate.replica;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link RequestIds}: ids in the UUID layout, never repeated within a process
 * however many threads ask, never shared by two processes, and not counting in the open.
 */
class RequestIdsTests {

	private static final int THREADS = 8;

	private static final int PER_THREAD = 125_000;

	@Test
	void idsAreLowercaseHexInTheUuidLayoutThatUuidReadsBack() {
		Random random = new Random(7);
		for (int i = 0; i < 1_000; i++) {
			long prefix = random.nextLong();
			RequestIds ids = new RequestIds(prefix, random.nextLong());
			String id = ids.nextId();
			assertThat(id).matches("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
			UUID parsed = UUID.fromString(id);
			assertThat(parsed.toString()).isEqualTo(id);
			assertThat(parsed.getMostSignificantBits()).isEqualTo(prefix);
		}
		assertThat(RequestIds.next()).hasSize(36).isNotEqualTo(RequestIds.next());
	}

	@Test
	void aMillionIdsFromEightThreadsAreAllDifferent() throws Exception {
		RequestIds ids = new RequestIds(0x0123456789abcdefL, 0xfedcba9876543210L);
		CountDownLatch start = new CountDownLatch(1);
		ExecutorService threads = Executors.newFixedThreadPool(THREADS);
		try {
			List<Future<long[]>> made = new ArrayList<>();
			for (int t = 0; t < THREADS; t++) {
				made.add(threads.submit(() -> {
					start.await();
					long[] low = new long[PER_THREAD];
					for (int i = 0; i < PER_THREAD; i++) {
						UUID id = UUID.fromString(ids.nextId());
						if (id.getMostSignificantBits() != 0x0123456789abcdefL) {
							throw new AssertionError("Another prefix: " + id);
						}
						low[i] = id.getLeastSignificantBits();
					}
					return low;
				}));
			}
			start.countDown();
			long[] all = new long[THREADS * PER_THREAD];
			for (int t = 0; t < THREADS; t++) {
				System.arraycopy(made.get(t).get(), 0, all, t * PER_THREAD, PER_THREAD);
			}
			Arrays.sort(all);
			for (int i = 1; i < all.length; i++) {
				assertThat(all[i]).as("id %d of %d", i, all.length).isNotEqualTo(all[i - 1]);
			}
		}
		finally {
			threads.shutdownNow();
		}
	}

	@Test
	void twoProcessesNeverMakeTheSameIdEvenWithTheSameCounterAndKey() {
		// prefixes one bit apart, the same secret: the counters run in step
		RequestIds one = new RequestIds(0x5555555555555555L, 42);
		RequestIds other = new RequestIds(0x5555555555555554L, 42);
		Set<String> seen = new HashSet<>();
		for (int i = 0; i < 100_000; i++) {
			String a = one.nextId();
			String b = other.nextId();
			assertThat(a.substring(19)).as("same counter, same key").isEqualTo(b.substring(19));
			assertThat(seen.add(a)).isTrue();
			assertThat(seen.add(b)).isTrue();
		}
	}

	@Test
	void undoingThePublicFinalizerDoesNotGiveTheCountBack() {
		RequestIds ids = new RequestIds(1, 0x9e3779b97f4a7c15L);
		long previous = unmix(UUID.fromString(ids.nextId()).getLeastSignificantBits());
		assertThat(previous).as("the first id").isNotZero();
		for (int i = 0; i < 1_000; i++) {
			long next = unmix(UUID.fromString(ids.nextId()).getLeastSignificantBits());
			assertThat(next - previous).as("what an observer of ids %d and %d would count", i, i + 1).isNotEqualTo(1);
			previous = next;
		}
	}

	@Test
	void theMixerIsABijection() {
		Random random = new Random(11);
		Set<Long> outputs = new HashSet<>();
		long[] inputs = new long[200_000];
		for (int i = 0; i < inputs.length; i++) {
			// counters as they run, and arbitrary values
			inputs[i] = (i % 2 == 0) ? i / 2 : random.nextLong();
		}
		for (long input : inputs) {
			long output = RequestIds.mix(input);
			assertThat(unmix(output)).isEqualTo(input);
			outputs.add(output);
		}
		assertThat(outputs).hasSize((int) Arrays.stream(inputs).distinct().count());
		for (int bit = 0; bit < 64; bit++) {
			assertThat(RequestIds.mix(1L << bit)).isNotEqualTo(RequestIds.mix(0));
		}
	}

	/** The inverse of {@link RequestIds#mix}: undoes each step, last first. */
	private static long unmix(long z) {
		z = z ^ (z >>> 31) ^ (z >>> 62);
		z *= inverse(0x94d049bb133111ebL);
		z = z ^ (z >>> 27) ^ (z >>> 54);
		z *= inverse(0xbf58476d1ce4e5b9L);
		return z ^ (z >>> 30) ^ (z >>> 60);
	}

	/** The multiplicative inverse of an odd number modulo 2^64 (Newton's iteration). */
	private static long inverse(long odd) {
		long x = odd;
		for (int i = 0; i < 5; i++) {
			x *= 2 - odd * x;
		}
		return x;
	}

}
