package dev.tiergate.requestlog;

import java.time.Duration;
import java.time.Instant;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.core.StringRedisTemplate;

import dev.tiergate.LocalRedis;
import dev.tiergate.tier.Tier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link RedisRequestLog}: the hot path without Redis, and reading back from
 * the local Redis (test database, keys of the test's own prefix, deleted afterwards).
 */
class RedisRequestLogTests {

	private final String prefix = "tg:test:requestlog:" + UUID.randomUUID() + ":";

	@AfterEach
	void deleteTheTestsStreams() {
		StringRedisTemplate redis = LocalRedis.template();
		Set<String> keys = redis.keys(this.prefix + "*");
		if (keys != null && !keys.isEmpty()) {
			redis.delete(keys);
		}
	}

	@Test
	void recordsAreReadBackAcrossDaysAndPagesWithinTheWindowAndForTheTenantAsked() {
		RedisRequestLog log = new RedisRequestLog(LocalRedis.template(), new RequestLogProperties(true, this.prefix,
				100_000, Duration.ofDays(1), 5_000, 500, Duration.ofSeconds(1)), new SimpleMeterRegistry());
		// Today's midnight: the per-day streams expire a retention after their day ends,
		// so days long past would be gone at once.
		java.time.LocalDate today = java.time.LocalDate.now(java.time.ZoneOffset.UTC);
		Instant midnight = today.atStartOfDay(java.time.ZoneOffset.UTC).toInstant();
		// 2,500 records over the last 25 minutes of one day and the first 25 of the next,
		// two tenants in turn
		for (int i = 0; i < 2_500; i++) {
			log.append(new RequestRecord(midnight.minusSeconds(1_500).plusMillis(i * 1_200L), (i % 2 == 0) ? "a" : "b",
					Tier.values()[i % 3], "m", "completions", false, 200, i, 1, 0, 1, 2,
					(i % 5 == 0) ? RequestRecord.HOSTED : RequestRecord.FLEET));
		}
		log.flush();

		List<RequestRecord> all = new ArrayList<>();
		log.read(midnight.minusSeconds(1_500), midnight.plusSeconds(1_500), null, all::add);
		List<RequestRecord> window = new ArrayList<>();
		log.read(midnight.minusSeconds(60), midnight.plusSeconds(60), "b", window::add);

		assertThat(all).hasSize(2_500);
		assertThat(all).extracting(RequestRecord::promptTokens).doesNotHaveDuplicates();
		assertThat(all).allSatisfy((record) -> assertThat(record.servedBy())
			.isEqualTo((record.promptTokens() % 5 == 0) ? RequestRecord.HOSTED : RequestRecord.FLEET));
		assertThat(window).hasSize(50).allSatisfy((record) -> {
			assertThat(record.tenant()).isEqualTo("b");
			assertThat(record.time()).isBetween(midnight.minusSeconds(60), midnight.plusSeconds(60));
		});
		assertThat(LocalRedis.template().hasKey(log.key(today.minusDays(1)))).isTrue();
		assertThat(LocalRedis.template().getExpire(log.key(today))).isPositive();
	}

	@Test
	void anAppendOnlyBuffersAndAFullBufferDropsAndCountsWithoutTouchingRedis() {
		SimpleMeterRegistry meters = new SimpleMeterRegistry();
		// no Redis at all: an append that went to Redis would fail
		RedisRequestLog log = new RedisRequestLog(null, new RequestLogProperties(true, "tg:requestlog:", 1000,
				Duration.ofDays(1), 2, 10, Duration.ofSeconds(1)), meters);
		RequestRecord record = new RequestRecord(Instant.parse("2026-11-29T17:00:00Z"), "acme", Tier.P2, "m",
				"completions", false, 200, 1, 1, 0, 1, 2, RequestRecord.FLEET);

		log.append(record);
		log.append(record);
		log.append(record);

		assertThat(meters.get("tiergate.requestlog.dropped").counter().count()).isEqualTo(1);
		assertThat(meters.get("tiergate.requestlog.written").counter().count()).isZero();
	}

}
