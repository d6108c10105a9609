package dev.tiergate.quota;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.EnumSet;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.springframework.data.redis.core.StringRedisTemplate;

import dev.tiergate.tier.Tier;

import dev.tiergate.LocalRedis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Tests for {@link TenantStore}, against the real Redis on 127.0.0.1:6379.
 */
class TenantStoreTests {

	private static final StringRedisTemplate redis = LocalRedis.template();

	private final TenantStore store = new TenantStore(redis,
			Clock.fixed(Instant.parse("2026-11-28T10:00:00Z"), ZoneOffset.UTC));

	private final String id = "t-" + UUID.randomUUID().toString().substring(0, 8);

	@Test
	void savesAndFindsATenant() {
		Tenant tenant = new Tenant(this.id, "Test", EnumSet.of(Tier.P1, Tier.P2), Tier.P2, 3);
		this.store.save(tenant);
		assertThat(this.store.find(this.id)).contains(tenant);
		assertThat(this.store.findAll()).contains(tenant);
	}

	@Test
	void aKeyAuthenticatesItsTenantAndIsStoredOnlyAsAHash() {
		this.store.save(new Tenant(this.id, "Test", EnumSet.allOf(Tier.class), Tier.P0, 1));
		String key = this.store.createKey(this.id);
		assertThat(key).startsWith("tg-").hasSizeGreaterThan(40);
		assertThat(this.store.authenticate(key)).map(Tenant::id).contains(this.id);
		assertThat(this.store.authenticate(key + "x")).isEmpty();
		assertThat(redis.keys("tg:quota:*")).noneMatch((k) -> k.contains(key));
		assertThat(redis.opsForHash().values("tg:quota:{" + this.id + "}:keys"))
			.allSatisfy((v) -> assertThat((String) v).doesNotContain(key).contains(ApiKeys.hash(key)));
	}

	@Test
	void addingTheSameKeyTwiceKeepsOneRecord() {
		this.store.save(new Tenant(this.id, "Test", EnumSet.allOf(Tier.class), Tier.P0, 1));
		this.store.addKey(this.id, "tg-" + this.id + "-fixed");
		this.store.addKey(this.id, "tg-" + this.id + "-fixed");
		assertThat(redis.opsForHash().size("tg:quota:{" + this.id + "}:keys")).isEqualTo(1);
	}

	@Test
	void unknownAndMalformedIdsAreNotFound() {
		assertThat(this.store.find("no-such-" + this.id)).isEmpty();
		assertThat(this.store.find("../etc")).isEmpty();
	}

	@Test
	void aTenantMustBeConsistent() {
		assertThatExceptionOfType(InvalidTenantException.class)
			.isThrownBy(() -> new Tenant("acme", "A", EnumSet.of(Tier.P1), Tier.P0, 1))
			.withMessageContaining("defaultTier");
		assertThatExceptionOfType(InvalidTenantException.class)
			.isThrownBy(() -> new Tenant("Bad Id", "A", EnumSet.of(Tier.P1), Tier.P1, 1))
			.withMessageContaining("id");
		assertThatExceptionOfType(InvalidTenantException.class)
			.isThrownBy(() -> new Tenant("acme", "A", EnumSet.of(Tier.P1), Tier.P1, 0))
			.withMessageContaining("weight");
	}

}
