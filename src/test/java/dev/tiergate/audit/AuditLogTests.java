package dev.tiergate.audit;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.core.StringRedisTemplate;

import dev.tiergate.LocalRedis;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link AuditLog} against the Redis on 127.0.0.1:6379.
 */
class AuditLogTests {

	private static final StringRedisTemplate redis = LocalRedis.template();

	private final String key = "tg:audit:test-" + UUID.randomUUID();

	@AfterEach
	void clean() {
		redis.delete(this.key);
	}

	private AuditLog log(Instant at, long max) {
		return new AuditLog(redis, new AuditProperties(this.key, max), Clock.fixed(at, ZoneOffset.UTC));
	}

	@Test
	void recordsWhoWhenWhatBeforeAndAfterNewestFirst() {
		Instant t0 = Instant.parse("2026-11-01T10:00:00Z");
		log(t0, 100).record("alice", "priority-class", "create", "batch-inference", "", "value=100");
		log(t0.plusSeconds(60), 100).record("bob", "sharing-profile", "update", "mps-4", "a", "b");

		List<AuditEntry> entries = log(t0, 100).entries(null, null, null, 10);

		assertThat(entries).extracting(AuditEntry::actor).containsExactly("bob", "alice");
		AuditEntry first = entries.get(1);
		assertThat(first.at()).isEqualTo(t0);
		assertThat(first.kind()).isEqualTo("priority-class");
		assertThat(first.action()).isEqualTo("create");
		assertThat(first.target()).isEqualTo("batch-inference");
		assertThat(first.before()).isEmpty();
		assertThat(first.after()).isEqualTo("value=100");
		assertThat(first.id()).isNotEmpty();
	}

	@Test
	void filtersByKindAndTime() {
		Instant t0 = Instant.parse("2026-11-01T10:00:00Z");
		for (int i = 0; i < 6; i++) {
			log(t0.plusSeconds(i * 60), 100).record("op", (i % 2 == 0) ? "node-label" : "priority-class", "update",
					"n" + i, "", "");
		}
		AuditLog log = log(t0, 100);
		assertThat(log.entries("node-label", null, null, 10)).extracting(AuditEntry::target)
			.containsExactly("n4", "n2", "n0");
		assertThat(log.entries(null, t0.plusSeconds(120), t0.plusSeconds(240), 10)).extracting(AuditEntry::target)
			.containsExactly("n3", "n2");
		assertThat(log.entries(null, null, null, 2)).hasSize(2);
	}

	@Test
	void usesTheSignedInPrincipalOrSystem() {
		assertThat(log(Instant.EPOCH, 100).record("tier", "update", "P0", "a", "b").actor()).isEqualTo("system");
	}

	@Test
	void trimsTheStreamToAboutItsLimit() {
		AuditLog log = log(Instant.EPOCH, 10);
		for (int i = 0; i < 300; i++) {
			log.record("op", "k", "a", "t" + i, "", "");
		}
		assertThat(redis.opsForStream().size(this.key)).isLessThan(300);
		assertThat(log.entries(null, null, null, 1).get(0).target()).isEqualTo("t299");
	}

}
