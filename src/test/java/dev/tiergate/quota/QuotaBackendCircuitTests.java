package dev.tiergate.quota;

import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import java.util.UUID;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.dao.QueryTimeoutException;
import org.springframework.data.redis.core.StringRedisTemplate;

import dev.tiergate.LocalRedis;
import dev.tiergate.routing.MutableClock;
import dev.tiergate.tier.Tier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Tests for {@link QuotaBackendCircuit}: Resilience4j's breaker with the quota store's
 * policy, on a fake clock.
 */
class QuotaBackendCircuitTests {

	private final MutableClock clock = new MutableClock(Instant.parse("2026-11-29T10:00:00Z"));

	private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

	private final QuotaBackendCircuit circuit = new QuotaBackendCircuit(3, Duration.ofSeconds(1),
			Duration.ofMillis(300), this.clock, this.meters);

	private String tenantToRemove;

	@AfterEach
	void removeTenant() {
		if (this.tenantToRemove != null) {
			new TenantStore(LocalRedis.template(), this.clock, null, Duration.ZERO).delete(this.tenantToRemove);
		}
	}

	private static QueryTimeoutException redisDown() {
		return new QueryTimeoutException("Redis command timed out");
	}

	private void open() {
		for (int i = 0; i < 3; i++) {
			assertThat(this.circuit.allow()).isTrue();
			this.circuit.failure(redisDown());
		}
		assertThat(this.circuit.state()).isEqualTo(QuotaBackendCircuit.State.OPEN);
	}

	@Test
	void opensAfterThreeConsecutiveStoreFailuresOnly() {
		for (int i = 0; i < 2; i++) {
			this.circuit.allow();
			this.circuit.failure(redisDown());
		}
		this.circuit.allow();
		this.circuit.success();
		for (int i = 0; i < 2; i++) {
			this.circuit.allow();
			this.circuit.failure(redisDown());
		}
		assertThat(this.circuit.state()).as("two, a success, two").isEqualTo(QuotaBackendCircuit.State.CLOSED);
		this.circuit.allow();
		this.circuit.failure(redisDown());
		assertThat(this.circuit.state()).isEqualTo(QuotaBackendCircuit.State.OPEN);
		assertThat(this.circuit.allow()).isFalse();
		assertThat(this.meters.get("tiergate.quota.backend.errors").counter().count()).isEqualTo(5);
		assertThat(this.meters.get("tiergate.quota.backend.circuit.open").gauge().value()).isEqualTo(1);
	}

	@Test
	void afterTheOpenPeriodOneProbeGoesAndItsSuccessCloses() {
		open();
		this.clock.advance(Duration.ofMillis(999));
		assertThat(this.circuit.allow()).isFalse();
		this.clock.advance(Duration.ofMillis(2));
		assertThat(this.circuit.allow()).as("the probe").isTrue();
		assertThat(this.circuit.state()).isEqualTo(QuotaBackendCircuit.State.HALF_OPEN);
		assertThat(this.circuit.allow()).as("one probe at a time").isFalse();
		this.circuit.success();
		assertThat(this.circuit.state()).isEqualTo(QuotaBackendCircuit.State.CLOSED);
		assertThat(this.meters.get("tiergate.quota.backend.circuit.open").gauge().value()).isZero();
	}

	@Test
	void aFailedProbeOpensTheCircuitAgain() {
		open();
		this.clock.advance(Duration.ofSeconds(2));
		assertThat(this.circuit.allow()).isTrue();
		this.circuit.failure(redisDown());
		assertThat(this.circuit.state()).isEqualTo(QuotaBackendCircuit.State.OPEN);
		assertThat(this.circuit.allow()).isFalse();
	}

	@Test
	void aProbeThatNeverReportsHoldsTheCircuitHalfOpenOnlyUntilTheHalfOpenTimeout() {
		open();
		this.clock.advance(Duration.ofSeconds(2));
		assertThat(this.circuit.allow()).as("a probe that will never report").isTrue();
		await().atMost(Duration.ofSeconds(3)).until(() -> this.circuit.state() == QuotaBackendCircuit.State.OPEN);
		this.clock.advance(Duration.ofSeconds(2));
		assertThat(this.circuit.allow()).as("a new probe").isTrue();
		this.circuit.success();
		assertThat(this.circuit.state()).isEqualTo(QuotaBackendCircuit.State.CLOSED);
	}

	@Test
	void aProbeFailingWithANonRedisExceptionMeansRedisAnsweredAndCloses() {
		open();
		this.clock.advance(Duration.ofSeconds(2));
		assertThat(this.circuit.allow()).isTrue();
		this.circuit.failure(new NumberFormatException("For input string: \"x\""));
		assertThat(this.circuit.state()).isEqualTo(QuotaBackendCircuit.State.CLOSED);
		assertThat(this.meters.get("tiergate.quota.backend.errors").counter().count()).as("Redis failures only")
			.isEqualTo(3);
	}

	@Test
	void aProbeThatMeetsAMalformedTenantRecordLeavesTheCircuitWorking() {
		StringRedisTemplate redis = LocalRedis.template();
		String id = "cb-" + UUID.randomUUID().toString().substring(0, 8);
		this.tenantToRemove = id;
		TenantStore store = new TenantStore(redis, this.clock, this.circuit, Duration.ZERO);
		store.save(new Tenant(id, "Circuit test", EnumSet.allOf(Tier.class), Tier.P1, 1));
		String key = store.createKey(id);
		redis.opsForHash().put(TenantStore.tenantKey(id), "weight", "not a number");
		open();
		this.clock.advance(Duration.ofSeconds(2));
		// The probe reads Redis, which answers with a record the store cannot parse.
		assertThatThrownBy(() -> store.authenticate(key)).isInstanceOf(NumberFormatException.class);
		assertThat(this.circuit.state()).isEqualTo(QuotaBackendCircuit.State.CLOSED);
		redis.opsForHash().put(TenantStore.tenantKey(id), "weight", "1");
		assertThat(store.authenticate(key)).as("read from Redis again").map(Tenant::id).contains(id);
	}

}
