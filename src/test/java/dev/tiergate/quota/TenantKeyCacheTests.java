package dev.tiergate.quota;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import java.util.UUID;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.data.redis.listener.ChannelTopic;
import org.springframework.data.redis.listener.RedisMessageListenerContainer;

import dev.tiergate.LocalRedis;
import dev.tiergate.routing.MutableClock;
import dev.tiergate.tier.Tier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Tests for the key memory of {@link TenantStore}: a known key is answered without a
 * Redis round trip while fresh, and a change made on one replica is heard by the others
 * at once.
 */
class TenantKeyCacheTests {

	private static final StringRedisTemplate redis = LocalRedis.template();

	private final MutableClock clock = new MutableClock(Instant.parse("2026-11-29T10:00:00Z"));

	private final String id = "kc-" + UUID.randomUUID().toString().substring(0, 8);

	private RedisMessageListenerContainer listener;

	@AfterEach
	void stopListening() throws Exception {
		if (this.listener != null) {
			this.listener.destroy();
		}
	}

	private TenantStore replica(Duration ttl) {
		return new TenantStore(redis, this.clock, null, ttl);
	}

	@Test
	void aFreshKeyIsAnsweredWithoutRedisUntilItExpires() {
		TenantStore store = replica(Duration.ofSeconds(1));
		store.save(new Tenant(this.id, "Test", EnumSet.allOf(Tier.class), Tier.P0, 1));
		String key = store.createKey(this.id);
		assertThat(store.authenticate(key)).map(Tenant::id).contains(this.id);
		// Removed behind the store's back (no change announced): only a read from Redis
		// would notice.
		redis.delete("tg:quota:key:" + ApiKeys.hash(key));
		this.clock.advance(Duration.ofMillis(999));
		assertThat(store.authenticate(key)).as("fresh: answered from memory").isPresent();
		this.clock.advance(Duration.ofMillis(1));
		assertThat(store.authenticate(key)).as("expired: read from Redis again").isEmpty();
	}

	@Test
	void withoutAMemoryEveryRequestReadsRedis() {
		TenantStore store = replica(Duration.ZERO);
		store.save(new Tenant(this.id, "Test", EnumSet.allOf(Tier.class), Tier.P0, 1));
		String key = store.createKey(this.id);
		assertThat(store.authenticate(key)).isPresent();
		redis.delete("tg:quota:key:" + ApiKeys.hash(key));
		assertThat(store.authenticate(key)).isEmpty();
	}

	@Test
	void aKeyRevokedOnOneReplicaIsRefusedOnAnotherWithoutWaitingForExpiry() {
		TenantStore one = replica(Duration.ofHours(1));
		TenantStore other = replica(Duration.ofHours(1));
		this.listener = new RedisMessageListenerContainer();
		this.listener.setConnectionFactory(redis.getConnectionFactory());
		this.listener.addMessageListener(
				(message, pattern) -> other.forget(new String(message.getBody(), StandardCharsets.UTF_8)),
				new ChannelTopic(TenantStore.CHANGES));
		this.listener.afterPropertiesSet();
		this.listener.start();
		one.save(new Tenant(this.id, "Test", EnumSet.allOf(Tier.class), Tier.P0, 1));
		TenantStore.IssuedKey issued = one.issueKey(this.id);
		assertThat(other.authenticate(issued.key())).isPresent();
		one.revokeKey(this.id, issued.info().id());
		assertThat(one.authenticate(issued.key())).as("the replica that revoked it").isEmpty();
		await().atMost(Duration.ofSeconds(1)).until(() -> other.authenticate(issued.key()).isEmpty());
	}

	@Test
	void aChangedTenantIsReadAgain() {
		TenantStore store = replica(Duration.ofHours(1));
		store.save(new Tenant(this.id, "Test", EnumSet.allOf(Tier.class), Tier.P0, 1));
		String key = store.createKey(this.id);
		assertThat(store.authenticate(key)).map(Tenant::weight).contains(1);
		store.update(new Tenant(this.id, "Test", EnumSet.allOf(Tier.class), Tier.P0, 4));
		assertThat(store.authenticate(key)).map(Tenant::weight).contains(4);
	}

}
