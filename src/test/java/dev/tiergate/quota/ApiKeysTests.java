package dev.tiergate.quota;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link ApiKeys}: the stored form of a key is its SHA-256, the same from any
 * number of threads at once (each hash uses its own clone of one prototype digest).
 */
class ApiKeysTests {

	@Test
	void hashIsSha256AsLowerCaseHex() {
		// FIPS 180-2's test vectors
		assertThat(ApiKeys.hash("abc")).isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
		assertThat(ApiKeys.hash("")).isEqualTo("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	}

	@Test
	void threadsHashingAtOnceGetTheSameHashes() throws Exception {
		List<String> keys = new ArrayList<>();
		for (int i = 0; i < 200; i++) {
			keys.add("tg-key-" + i);
		}
		List<String> expected = keys.stream().map(ApiKeys::hash).toList();
		ExecutorService pool = Executors.newFixedThreadPool(8);
		try {
			List<Future<List<String>>> runs = new ArrayList<>();
			for (int t = 0; t < 8; t++) {
				runs.add(pool.submit(() -> {
					List<String> hashes = new ArrayList<>();
					for (int round = 0; round < 50; round++) {
						hashes.clear();
						for (String key : keys) {
							hashes.add(ApiKeys.hash(key));
						}
					}
					return hashes;
				}));
			}
			for (Future<List<String>> run : runs) {
				assertThat(run.get()).isEqualTo(expected);
			}
		}
		finally {
			pool.shutdownNow();
		}
	}

}
