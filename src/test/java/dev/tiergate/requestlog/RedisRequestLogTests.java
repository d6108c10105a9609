package dev.tiergate.requestlog;

import java.time.Duration;
import java.time.Instant;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import dev.tiergate.tier.Tier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link RedisRequestLog}'s hot path (its Redis side is covered by
 * {@link RequestLogIntegrationTests}).
 */
class RedisRequestLogTests {

	@Test
	void anAppendOnlyBuffersAndAFullBufferDropsAndCountsWithoutTouchingRedis() {
		SimpleMeterRegistry meters = new SimpleMeterRegistry();
		// no Redis at all: an append that went to Redis would fail
		RedisRequestLog log = new RedisRequestLog(null, new RequestLogProperties(true, "tg:requestlog:", 1000,
				Duration.ofDays(1), 2, 10, Duration.ofSeconds(1)), meters);
		RequestRecord record = new RequestRecord(Instant.parse("2026-11-29T17:00:00Z"), "acme", Tier.P2, "m",
				"completions", false, 200, 1, 1, 0, 1, 2);

		log.append(record);
		log.append(record);
		log.append(record);

		assertThat(meters.get("tiergate.requestlog.dropped").counter().count()).isEqualTo(1);
		assertThat(meters.get("tiergate.requestlog.written").counter().count()).isZero();
	}

}
