package dev.tiergate.quota;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.EnumSet;
import java.util.UUID;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.data.redis.listener.ChannelTopic;
import org.springframework.data.redis.listener.RedisMessageListenerContainer;

import dev.tiergate.LocalRedis;
import dev.tiergate.routing.MutableClock;
import dev.tiergate.tier.Tier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
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

	/**
	 * A burst of requests with one key that find its memory stale read it from Redis
	 * once, not once each: 32 threads released at once, two hundred times over, each time
	 * after the memory expired (a fixed clock otherwise, so a thread that comes after the
	 * read finds the key fresh).
	 */
	@Test
	void aBurstThatFindsAKeyStaleReadsItOnce() throws Exception {
		TenantStore store = replica(Duration.ofSeconds(1));
		store.save(new Tenant(this.id, "Test", EnumSet.allOf(Tier.class), Tier.P0, 1));
		String key = store.createKey(this.id);
		ExecutorService threads = Executors.newFixedThreadPool(32);
		try {
			for (int round = 0; round < 200; round++) {
				this.clock.advance(Duration.ofSeconds(2));
				long before = store.reads();
				CyclicBarrier start = new CyclicBarrier(32);
				List<Future<Optional<Tenant>>> answers = new ArrayList<>();
				for (int t = 0; t < 32; t++) {
					answers.add(threads.submit(() -> {
						start.await();
						return store.authenticate(key);
					}));
				}
				for (Future<Optional<Tenant>> answer : answers) {
					assertThat(answer.get(10, TimeUnit.SECONDS)).map(Tenant::id).contains(this.id);
				}
				assertThat(store.reads() - before).as("round %d", round).isEqualTo(1);
			}
		}
		finally {
			threads.shutdownNow();
		}
	}

	/**
	 * The race the burst above catches only by chance, made certain: a request finds the
	 * key's memory stale and is held there (in its clock read), another request reads the
	 * key in full, then the first goes on. It answers from what that read left, without a
	 * second read.
	 */
	@Test
	void aRequestThatFoundTheKeyStaleWhileAnotherReadItDoesNotReadItAgain() throws Exception {
		CountDownLatch holding = new CountDownLatch(1);
		CountDownLatch release = new CountDownLatch(1);
		AtomicReference<Thread> held = new AtomicReference<>();
		Clock gated = new Clock() {

			@Override
			public ZoneId getZone() {
				return TenantKeyCacheTests.this.clock.getZone();
			}

			@Override
			public Clock withZone(ZoneId zone) {
				return this;
			}

			@Override
			public Instant instant() {
				return TenantKeyCacheTests.this.clock.instant();
			}

			@Override
			public long millis() {
				if (Thread.currentThread() == held.get() && holding.getCount() > 0) {
					holding.countDown();
					try {
						release.await(10, TimeUnit.SECONDS);
					}
					catch (InterruptedException ex) {
						Thread.currentThread().interrupt();
					}
				}
				return TenantKeyCacheTests.this.clock.millis();
			}

		};
		TenantStore store = new TenantStore(redis, gated, null, Duration.ofSeconds(1));
		store.save(new Tenant(this.id, "Test", EnumSet.allOf(Tier.class), Tier.P0, 1));
		String key = store.createKey(this.id);
		assertThat(store.authenticate(key)).isPresent();
		this.clock.advance(Duration.ofSeconds(2));
		long before = store.reads();
		AtomicReference<Optional<Tenant>> answer = new AtomicReference<>();
		Thread first = Thread.ofPlatform().unstarted(() -> answer.set(store.authenticate(key)));
		held.set(first);
		first.start();
		assertThat(holding.await(10, TimeUnit.SECONDS)).as("the first request is checking a stale memory").isTrue();
		assertThat(store.authenticate(key)).map(Tenant::id).contains(this.id);
		assertThat(store.reads() - before).as("the second request read the key").isEqualTo(1);
		release.countDown();
		first.join(10_000);
		assertThat(answer.get()).map(Tenant::id).contains(this.id);
		assertThat(store.reads() - before).as("reads of the key after the first request went on").isEqualTo(1);
	}

	/**
	 * A read that fails (here a tenant record that is not one) fails every request that
	 * waited for it, and leaves nothing behind: once the record is mended, the key works.
	 */
	@Test
	void requestsWaitingForAReadThatFailsFailToo() throws Exception {
		TenantStore store = replica(Duration.ofSeconds(1));
		store.save(new Tenant(this.id, "Test", EnumSet.allOf(Tier.class), Tier.P0, 1));
		String key = store.createKey(this.id);
		redis.opsForHash().put(TenantStore.tenantKey(this.id), "weight", "heavy");
		ExecutorService threads = Executors.newFixedThreadPool(16);
		try {
			CyclicBarrier start = new CyclicBarrier(16);
			List<Future<Optional<Tenant>>> answers = new ArrayList<>();
			for (int t = 0; t < 16; t++) {
				answers.add(threads.submit(() -> {
					start.await();
					return store.authenticate(key);
				}));
			}
			for (Future<Optional<Tenant>> answer : answers) {
				assertThatThrownBy(() -> answer.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
					.hasCauseInstanceOf(NumberFormatException.class);
			}
		}
		finally {
			threads.shutdownNow();
		}
		redis.opsForHash().put(TenantStore.tenantKey(this.id), "weight", "1");
		assertThat(store.authenticate(key)).map(Tenant::id).contains(this.id);
	}

}
