package dev.tiergate.proxy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import dev.tiergate.tier.Tier;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link ProxyMetrics}: each call lands on the meter its tags name, whichever
 * path (an exchange's outcome or a name) counts it, and no increment is lost when many
 * threads register and count at once.
 */
class ProxyMetricsTests {

	private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

	private final ProxyMetrics metrics = new ProxyMetrics(this.registry);

	@Test
	void countsEachOutcomeUnderItsModelTierAndLowerCaseName() {
		this.metrics.count("llama", Tier.P0, ExchangeOutcome.DONE);
		this.metrics.count("llama", Tier.P0, ExchangeOutcome.DONE);
		this.metrics.count("llama", Tier.P2, ExchangeOutcome.CLIENT_GONE);
		this.metrics.count("qwen", Tier.P0, ExchangeOutcome.FAILED_MID_STREAM);
		// a name equal to an outcome's tag is the same meter
		this.metrics.count("llama", Tier.P0, "done");
		this.metrics.count("llama", Tier.P1, "queue_timeout");
		this.metrics.count("_unknown", Tier.P1, "unknown_model");

		assertThat(requests("llama", "P0", "done")).isEqualTo(3);
		assertThat(requests("llama", "P2", "client_gone")).isEqualTo(1);
		assertThat(requests("qwen", "P0", "failed_mid_stream")).isEqualTo(1);
		assertThat(requests("llama", "P1", "queue_timeout")).isEqualTo(1);
		assertThat(requests("_unknown", "P1", "unknown_model")).isEqualTo(1);
		// nothing registered that was not counted
		assertThat(this.registry.find("tiergate.proxy.requests").counters()).hasSize(5);
		assertThat(this.registry.find("tiergate.proxy.requests")
			.tag("model", "llama")
			.tag("priority", "P2")
			.tag("outcome", "done")
			.counter()).isNull();
	}

	@Test
	void tagsAreTheOutcomesNamesInLowerCaseWhateverTheDefaultLocale() {
		Locale before = Locale.getDefault();
		try {
			// Turkish lower-cases I to a dotless i: "clıent_gone"
			Locale.setDefault(Locale.forLanguageTag("tr"));
			assertThat(ProxyMetrics.tag(ExchangeOutcome.CLIENT_GONE)).isEqualTo("client_gone");
			assertThat(ProxyMetrics.tag(ExchangeOutcome.FAILED_MID_STREAM)).isEqualTo("failed_mid_stream");
		}
		finally {
			Locale.setDefault(before);
		}
	}

	@Test
	void recordsDurationsByStreamAndFirstBytesWithTheirBuckets() {
		this.metrics.duration("llama", Tier.P0, false, Duration.ofMillis(40));
		this.metrics.duration("llama", Tier.P0, true, Duration.ofMillis(900));
		this.metrics.duration("llama", Tier.P0, true, Duration.ofMillis(1100));
		this.metrics.firstByte("llama", Tier.P1, Duration.ofMillis(70));

		Timer plain = this.registry.find("tiergate.proxy.duration")
			.tag("model", "llama")
			.tag("priority", "P0")
			.tag("stream", "false")
			.timer();
		Timer streamed = this.registry.find("tiergate.proxy.duration")
			.tag("model", "llama")
			.tag("priority", "P0")
			.tag("stream", "true")
			.timer();
		assertThat(plain.count()).isEqualTo(1);
		assertThat(plain.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(40);
		assertThat(streamed.count()).isEqualTo(2);
		assertThat(streamed.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(2000);
		assertThat(this.registry.find("tiergate.proxy.duration").timers()).hasSize(2);

		Timer firstByte = this.registry.find("tiergate.proxy.first.byte")
			.tag("model", "llama")
			.tag("priority", "P1")
			.timer();
		assertThat(firstByte.count()).isEqualTo(1);
		CountAtBucket[] buckets = firstByte.takeSnapshot().histogramCounts();
		assertThat(buckets).hasSize(10);
		// 70 ms: above the 50 ms bucket, within the 100 ms one
		assertThat(buckets[0].count()).isZero();
		assertThat(buckets[1].count()).isEqualTo(1);
	}

	@Test
	void concurrentFirstUsesRegisterOneMeterAndLoseNoIncrement() throws Exception {
		String[] models = { "a", "b", "c" };
		Tier[] tiers = Tier.values();
		ExchangeOutcome[] outcomes = ExchangeOutcome.values();
		String[] named = { "retried", "requeued", "overloaded" };
		int threads = 8;
		int perThread = 20_000;
		CountDownLatch start = new CountDownLatch(1);
		ExecutorService pool = Executors.newFixedThreadPool(threads);
		List<Future<Map<String, Integer>>> done = new ArrayList<>();
		for (int t = 0; t < threads; t++) {
			long seed = 42 + t;
			done.add(pool.submit(() -> {
				Random random = new Random(seed);
				Map<String, Integer> expected = new HashMap<>();
				start.await();
				for (int i = 0; i < perThread; i++) {
					String model = models[random.nextInt(models.length)];
					Tier tier = tiers[random.nextInt(tiers.length)];
					String outcome;
					if (random.nextBoolean()) {
						ExchangeOutcome chosen = outcomes[random.nextInt(outcomes.length)];
						this.metrics.count(model, tier, chosen);
						outcome = ProxyMetrics.tag(chosen);
					}
					else {
						outcome = named[random.nextInt(named.length)];
						this.metrics.count(model, tier, outcome);
					}
					expected.merge(model + "/" + tier + "/" + outcome, 1, Integer::sum);
				}
				return expected;
			}));
		}
		start.countDown();
		Map<String, Integer> expected = new HashMap<>();
		for (Future<Map<String, Integer>> future : done) {
			future.get(60, TimeUnit.SECONDS).forEach((key, n) -> expected.merge(key, n, Integer::sum));
		}
		pool.shutdown();

		assertThat(this.registry.find("tiergate.proxy.requests").counters()).hasSize(expected.size());
		expected.forEach((key, n) -> {
			String[] tags = key.split("/");
			assertThat(requests(tags[0], tags[1], tags[2])).as(key).isEqualTo(n.doubleValue());
		});
		assertThat(expected.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(threads * perThread);
	}

	private double requests(String model, String tier, String outcome) {
		Counter counter = this.registry.find("tiergate.proxy.requests")
			.tag("model", model)
			.tag("priority", tier)
			.tag("outcome", outcome)
			.counter();
		return (counter != null) ? counter.count() : 0;
	}

}
