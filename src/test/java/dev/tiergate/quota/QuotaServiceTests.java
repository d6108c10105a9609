package dev.tiergate.quota;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceClientConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.RedisCallback;
import org.springframework.data.redis.core.StringRedisTemplate;

import dev.tiergate.tier.Tier;

import dev.tiergate.LocalRedis;
import dev.tiergate.RedisProcess;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Tests for {@link QuotaService}, against the real Redis on 127.0.0.1:6379.
 */
class QuotaServiceTests {

	private static final StringRedisTemplate redis = LocalRedis.template();

	private final List<QuotaService> services = new ArrayList<>();

	private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

	private final String id = "q-" + UUID.randomUUID().toString().substring(0, 8);

	/** The circuit of the service created last. */
	private QuotaBackendCircuit circuit;

	@AfterEach
	void stopServices() {
		this.services.forEach(QuotaService::close);
	}

	private QuotaService service(Duration leaseTtl) {
		return service(leaseTtl, Duration.ofSeconds(1));
	}

	private QuotaService service(Duration leaseTtl, Duration openFor) {
		return service(leaseTtl, openFor, 256);
	}

	private QuotaService service(Duration leaseTtl, Duration openFor, int settlementBatch) {
		QuotaProperties properties = new QuotaProperties(leaseTtl, Duration.ofSeconds(1), 3, Duration.ofSeconds(1),
				Duration.ofSeconds(5), Duration.ofSeconds(1), Map.of(), 100_000, settlementBatch, Duration.ofMillis(5));
		this.circuit = new QuotaBackendCircuit(3, openFor, Clock.systemUTC(), this.meters);
		QuotaService service = new QuotaService(redis, properties, Clock.systemUTC(), this.meters, this.circuit);
		this.services.add(service);
		return service;
	}

	private Tenant tenant(Limits limits) {
		return new Tenant(this.id, "Quota test", EnumSet.allOf(Tier.class), Tier.P1, 1, limits);
	}

	@Test
	void sixtyFourThreadsRacingOnAFortyRpmLimitAdmitExactlyForty() throws Exception {
		QuotaService service = service(Duration.ofSeconds(30));
		Tenant tenant = tenant(new Limits(40L, null, null, null));
		AtomicInteger admitted = new AtomicInteger();
		AtomicInteger refused = new AtomicInteger();
		CountDownLatch start = new CountDownLatch(1);
		ExecutorService threads = Executors.newFixedThreadPool(64);
		List<Future<?>> done = new ArrayList<>();
		for (int i = 0; i < 64; i++) {
			done.add(threads.submit(() -> {
				start.await();
				try {
					service.admit(tenant, Tier.P1, "m", 10, 10L).complete(10, 10);
					admitted.incrementAndGet();
				}
				catch (QuotaException.Exceeded ex) {
					assertThat(ex.limit()).isEqualTo("requests_per_minute");
					assertThat(ex.headers()).containsEntry("x-ratelimit-remaining-requests", "0");
					refused.incrementAndGet();
				}
				return null;
			}));
		}
		start.countDown();
		for (Future<?> f : done) {
			f.get();
		}
		threads.shutdown();
		assertThat(admitted).hasValue(40);
		assertThat(refused).hasValue(24);
		assertThat(service.status(this.id).requestsLastMinute()).isEqualTo(40);
		assertThat(this.meters.get("tiergate.quota.decisions")
			.tags("tier", "P1", "decision", "rejected", "limit", "requests_per_minute")
			.counter()
			.count()).isEqualTo(24);
	}

	@Test
	void tokenReservationIsReconciledToTheExactRealUsage() {
		reconcilesToTheExactRealUsage(service(Duration.ofSeconds(30)));
	}

	@Test
	void settledOnTheRequestsThreadTheReservationIsReconciledAlike() {
		reconcilesToTheExactRealUsage(service(Duration.ofSeconds(30), Duration.ofSeconds(1), 0));
	}

	@Test
	void aClientsNextRequestRightAfterTheAnswerIsAdmittedUnderAConcurrencyOfOne() {
		QuotaService service = service(Duration.ofSeconds(30));
		Tenant tenant = tenant(new Limits(null, null, 1L, null));
		for (int i = 0; i < 300; i++) {
			service.admit(tenant, Tier.P1, "m", 1, 1L).complete(1, 1);
		}
		assertThat(service.status(this.id).inFlight()).isZero();
		assertThat(service.usage(this.id, java.time.YearMonth.now(Clock.systemUTC()))).singleElement()
			.satisfies((usage) -> assertThat(usage.requests()).isEqualTo(300));
	}

	@Test
	void whatIsRememberedOfSettlementsExpiresWithTheLastOfThem() {
		QuotaService service = service(Duration.ofSeconds(30));
		Tenant tenant = tenant(new Limits(null, null, null, null));
		service.admit(tenant, Tier.P1, "m", 1, 1L).complete(1, 1);
		service.status(this.id);
		Long ttl = redis.getExpire(QuotaService.key(this.id, "settled"), java.util.concurrent.TimeUnit.MILLISECONDS);
		assertThat(ttl).as("remembered for a minute (twice the lease's life at least), then gone")
			.isBetween(1L, 60_000L);
	}

	@Test
	void sixteenThreadsOfTwoTenantsSettleEveryRequestExactlyOnce() throws Exception {
		QuotaService service = service(Duration.ofSeconds(30));
		String otherId = this.id + "-b";
		Tenant[] tenants = { tenant(new Limits(null, null, null, 100_000_000L)), new Tenant(otherId, "Quota test B",
				EnumSet.allOf(Tier.class), Tier.P1, 1, new Limits(null, null, null, 100_000_000L)) };
		java.util.Random seeds = new java.util.Random(1130L);
		long[][] spent = new long[16][];
		ExecutorService threads = Executors.newFixedThreadPool(16);
		CountDownLatch start = new CountDownLatch(1);
		List<Future<?>> done = new ArrayList<>();
		for (int t = 0; t < 16; t++) {
			java.util.Random random = new java.util.Random(seeds.nextLong());
			long[] mine = new long[6];
			spent[t] = mine;
			done.add(threads.submit(() -> {
				start.await();
				for (int i = 0; i < 150; i++) {
					int which = random.nextInt(2);
					QuotaPermit permit = service.admit(tenants[which], Tier.P1, "m", 50, 200L);
					int prompt = random.nextInt(60);
					int completion = random.nextInt(200);
					permit.complete(prompt, completion);
					mine[which * 3] += 1;
					mine[which * 3 + 1] += prompt;
					mine[which * 3 + 2] += completion;
				}
				return null;
			}));
		}
		start.countDown();
		for (Future<?> f : done) {
			f.get();
		}
		threads.shutdown();
		for (int which = 0; which < 2; which++) {
			long requests = 0;
			long prompt = 0;
			long completion = 0;
			for (long[] mine : spent) {
				requests += mine[which * 3];
				prompt += mine[which * 3 + 1];
				completion += mine[which * 3 + 2];
			}
			String tenantId = tenants[which].id();
			QuotaStatus status = service.status(tenantId);
			assertThat(status.inFlight()).isZero();
			assertThat(status.monthTokens()).isEqualTo(prompt + completion);
			long expectedRequests = requests;
			long expectedPrompt = prompt;
			long expectedCompletion = completion;
			assertThat(service.usage(tenantId, java.time.YearMonth.now(Clock.systemUTC()))).singleElement()
				.satisfies((usage) -> {
					assertThat(usage.requests()).isEqualTo(expectedRequests);
					assertThat(usage.promptTokens()).isEqualTo(expectedPrompt);
					assertThat(usage.completionTokens()).isEqualTo(expectedCompletion);
				});
		}
	}

	private void reconcilesToTheExactRealUsage(QuotaService service) {
		Tenant tenant = tenant(new Limits(null, 1000L, null, 100_000L));
		QuotaPermit first = service.admit(tenant, Tier.P1, "m", 100, 400L);
		QuotaPermit second = service.admit(tenant, Tier.P1, "m", 50, 300L);
		assertThat(first.headers()).containsEntry("x-ratelimit-limit-tokens", "1000")
			.containsEntry("x-ratelimit-remaining-tokens", "500");
		assertThat(second.headers()).containsEntry("x-ratelimit-remaining-tokens", "150");
		assertThat(service.status(this.id).tokensLastMinute()).isEqualTo(850);
		assertThatThrownBy(() -> service.admit(tenant, Tier.P1, "m", 100, 100L))
			.isInstanceOfSatisfying(QuotaException.Exceeded.class, (ex) -> {
				assertThat(ex.limit()).isEqualTo("tokens_per_minute");
				assertThat(ex.retryAfter()).isPositive().isLessThanOrEqualTo(Duration.ofSeconds(60));
			});
		first.complete(98, 17);
		second.complete(47, 300);
		second.complete(1, 1);
		QuotaStatus status = service.status(this.id);
		assertThat(status.tokensLastMinute()).isEqualTo(98 + 17 + 47 + 300);
		assertThat(status.monthTokens()).isEqualTo(98 + 17 + 47 + 300);
		assertThat(status.inFlight()).isZero();
		List<UsageRecord> usage = service.usage(this.id, java.time.YearMonth.now(Clock.systemUTC()));
		assertThat(usage).singleElement().satisfies((r) -> {
			assertThat(r.requests()).isEqualTo(2);
			assertThat(r.promptTokens()).isEqualTo(98 + 47);
			assertThat(r.completionTokens()).isEqualTo(17 + 300);
		});
	}

	@Test
	void aRequestThatWasNotServedIsRefundedButStillCountsAsARequest() {
		QuotaService service = service(Duration.ofSeconds(30));
		Tenant tenant = tenant(new Limits(10L, 1000L, 5L, null));
		service.admit(tenant, Tier.P2, "m", 100, 100L).close();
		QuotaStatus status = service.status(this.id);
		assertThat(status.requestsLastMinute()).isEqualTo(1);
		assertThat(status.tokensLastMinute()).isZero();
		assertThat(status.inFlight()).isZero();
		assertThat(service.usage(this.id, java.time.YearMonth.now(Clock.systemUTC()))).isEmpty();
	}

	@Test
	void anOverflowingReservationIsTheCallersFaultAndNeverOpensTheCircuit() {
		QuotaService service = service(Duration.ofSeconds(30));
		Tenant tenant = tenant(new Limits(100L, 1_000_000L, 10L, 10_000_000L));
		for (int i = 0; i < 5; i++) {
			assertThatThrownBy(() -> service.admit(tenant, Tier.P1, "m", 10, Long.MAX_VALUE))
				.isInstanceOfSatisfying(dev.tiergate.problem.TiergateException.class, (ex) -> {
					assertThat(ex.status()).isEqualTo(400);
					assertThat(ex.code()).isEqualTo("invalid_value");
				});
			assertThatThrownBy(() -> service.admit(tenant, Tier.P1, "m", -5, 10))
				.isInstanceOf(dev.tiergate.problem.TiergateException.class);
		}
		assertThat(service.mode()).isEqualTo("redis");
		assertThat(this.meters.counter("tiergate.quota.backend.errors").count()).isZero();
		assertThat(service.status(this.id).tokensLastMinute()).isZero();
		service.admit(tenant, Tier.P1, "m", 10, 10).complete(10, 10);
	}

	@Test
	void rejectedRequestsChangeNoCounter() {
		QuotaService service = service(Duration.ofSeconds(30));
		Tenant tenant = tenant(new Limits(2L, 500L, 1L, 10_000L));
		QuotaPermit holder = service.admit(tenant, Tier.P1, "m", 10, 90L);
		Map<String, String> before = snapshot();
		for (int i = 0; i < 5; i++) {
			assertThatThrownBy(() -> service.admit(tenant, Tier.P1, "m", 10, 10L)).isInstanceOfSatisfying(
					QuotaException.Exceeded.class, (ex) -> assertThat(ex.limit()).isEqualTo("max_concurrent"));
			assertThatThrownBy(() -> service.admit(tenant, Tier.P1, "m", 10, 1000L)).isInstanceOfSatisfying(
					QuotaException.Exceeded.class, (ex) -> assertThat(ex.limit()).isEqualTo("tokens_per_minute"));
		}
		assertThat(snapshot()).isEqualTo(before);
		holder.complete(10, 90);
		service.admit(tenant, Tier.P1, "m", 10, 10L).complete(10, 10);
		service.status(this.id); // waits for the two settlements, which change the
									// counters
		Map<String, String> full = snapshot();
		assertThatThrownBy(() -> service.admit(tenant, Tier.P1, "m", 1, 1L)).isInstanceOfSatisfying(
				QuotaException.Exceeded.class, (ex) -> assertThat(ex.limit()).isEqualTo("requests_per_minute"));
		assertThat(snapshot()).isEqualTo(full);
	}

	@Test
	void theMonthlyBudgetRefusesUntilTheNextMonth() {
		QuotaService service = service(Duration.ofSeconds(30));
		Tenant tenant = tenant(new Limits(null, null, null, 100L));
		service.admit(tenant, Tier.P1, "m", 10, 50L).complete(10, 50);
		assertThatThrownBy(() -> service.admit(tenant, Tier.P1, "m", 10, 50L))
			.isInstanceOfSatisfying(QuotaException.Exceeded.class, (ex) -> {
				assertThat(ex.limit()).isEqualTo("monthly_token_budget");
				assertThat(ex.code()).isEqualTo("insufficient_quota");
				assertThat(ex.retryAfter()).isPositive().isLessThanOrEqualTo(Duration.ofDays(31));
			});
		service.admit(tenant, Tier.P1, "m", 10, 30L).complete(5, 5);
		assertThat(service.status(this.id).monthTokens()).isEqualTo(70);
	}

	@Test
	void aLeaseThatIsNeverReleasedExpires() {
		QuotaService crashed = service(Duration.ofMillis(600));
		Tenant tenant = tenant(new Limits(null, null, 1L, null));
		crashed.admit(tenant, Tier.P1, "m", 1, 1L);
		crashed.close(); // the replica dies: no renewal, no release
		QuotaService survivor = service(Duration.ofMillis(600));
		assertThatThrownBy(() -> survivor.admit(tenant, Tier.P1, "m", 1, 1L)).isInstanceOfSatisfying(
				QuotaException.Exceeded.class, (ex) -> assertThat(ex.limit()).isEqualTo("max_concurrent"));
		await().atMost(Duration.ofSeconds(3))
			.pollInterval(Duration.ofMillis(50))
			.ignoreExceptionsInstanceOf(QuotaException.Exceeded.class)
			.untilAsserted(() -> {
				survivor.admit(tenant, Tier.P1, "m", 1, 1L).complete(1, 1);
			});
		// The request ends on the settling thread: a read waits for what was handed over.
		assertThat(survivor.status(this.id).inFlight()).isZero();
		assertThat(redis.opsForHash().size(QuotaService.key(this.id, "inflight"))).isZero();
	}

	@Test
	void aTenantWithoutLimitsIsCountedAsBeforeOnlyAfterTheAnswerAndExactlyOnce() {
		QuotaService service = service(Duration.ofSeconds(1));
		Tenant tenant = tenant(Limits.NONE);
		QuotaPermit served = service.admit(tenant, Tier.P1, "m", 100, 400L);
		QuotaPermit unserved = service.admit(tenant, Tier.P1, "m", 50, 300L);
		assertThat(served.headers()).isEmpty();
		assertThat(this.meters.get("tiergate.quota.decisions")
			.tags("tier", "P1", "decision", "admitted_unchecked", "limit", "none")
			.counter()
			.count()).as("told apart from admissions the script checked").isEqualTo(2);
		assertThat(this.meters.find("tiergate.quota.decisions").tags("decision", "admitted").counter()).isNull();
		QuotaStatus running = service.status(this.id);
		assertThat(running.inFlight()).isEqualTo(2);
		assertThat(running.monthTokens()).isEqualTo(500 + 350);
		assertThat(running.requestsLastMinute()).as("no window without a per-minute limit").isZero();
		// The leases are renewed like any other: they outlive their first expiry.
		await().pollDelay(Duration.ofMillis(2500)).until(() -> true);
		assertThat(service.status(this.id).inFlight()).isEqualTo(2);
		served.complete(98, 17);
		unserved.close();
		QuotaStatus ended = service.status(this.id);
		assertThat(ended.inFlight()).isZero();
		assertThat(ended.monthTokens()).isEqualTo(98 + 17);
		// Replays whose answers were lost, of the admission and of the end, change
		// nothing.
		service.settle(SettlementJournal.Settlement.admission(this.id, false, served.requestId(), 500));
		service.settle(new SettlementJournal.Settlement(this.id, false, served.requestId(), 98, 17, "P1", "m", true,
				500, served.month(), false));
		assertThat(service.status(this.id).monthTokens()).isEqualTo(98 + 17);
		assertThat(service.status(this.id).inFlight()).isZero();
		assertThat(service.usage(this.id, java.time.YearMonth.now(Clock.systemUTC()))).singleElement()
			.satisfies((usage) -> {
				assertThat(usage.requests()).isEqualTo(1);
				assertThat(usage.promptTokens()).isEqualTo(98);
				assertThat(usage.completionTokens()).isEqualTo(17);
			});
		assertThat(redis.opsForHash().size(QuotaService.key(this.id, "inflight"))).isZero();
	}

	@Test
	void aShortRequestOfATenantWithoutLimitsIsCountedWithoutItsLeaseEverBeingWritten() throws Exception {
		// A Redis of the test's own, so that its command counts are this service's.
		try (OwnRedis own = OwnRedis.start(Duration.ofSeconds(5))) {
			StringRedisTemplate template = own.template();
			// The longest linger (1 s): the admissions wait on this replica until
			// status() flushes them, with the ends that came meanwhile, in one call.
			QuotaProperties properties = new QuotaProperties(Duration.ofSeconds(30), Duration.ofSeconds(1), 3,
					Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofSeconds(1), Map.of(), 100_000, 256,
					Duration.ofSeconds(1));
			QuotaService service = new QuotaService(template, properties, Clock.systemUTC(), this.meters,
					new QuotaBackendCircuit(3, Duration.ofSeconds(1), Clock.systemUTC(), this.meters));
			this.services.add(service);
			Tenant tenant = tenant(Limits.NONE);
			QuotaPermit served = service.admit(tenant, Tier.P1, "m", 100, 400L);
			QuotaPermit unserved = service.admit(tenant, Tier.P1, "m", 50, 300L);
			served.complete(98, 17);
			unserved.close();
			QuotaStatus status = service.status(this.id);
			assertThat(status.inFlight()).isZero();
			assertThat(status.monthTokens()).as("the real usage, as with the lease taken and given back")
				.isEqualTo(98 + 17);
			assertThat(service.usage(this.id, java.time.YearMonth.now(Clock.systemUTC()))).singleElement()
				.satisfies((usage) -> {
					assertThat(usage.requests()).isEqualTo(1);
					assertThat(usage.promptTokens()).isEqualTo(98);
					assertThat(usage.completionTokens()).isEqualTo(17);
				});
			// takeLease's commands: the in-flight record and the leases' expiry.
			assertThat(calls(template, "hset")).as("in-flight records written").isZero();
			assertThat(calls(template, "pexpire")).as("lease expiries set").isZero();
			// Replays whose answers were lost, of an admission and of an end, change
			// nothing.
			service.settle(SettlementJournal.Settlement.admission(this.id, false, served.requestId(), 500));
			service.settle(new SettlementJournal.Settlement(this.id, false, served.requestId(), 98, 17, "P1", "m", true,
					500, served.month(), false));
			assertThat(service.status(this.id).monthTokens()).isEqualTo(98 + 17);
			assertThat(service.status(this.id).inFlight()).isZero();
			assertThat(service.usage(this.id, java.time.YearMonth.now(Clock.systemUTC()))).singleElement()
				.satisfies((usage) -> assertThat(usage.requests()).isEqualTo(1));
		}
	}

	/**
	 * A {@code redis-server} of the test's own and a template on it.
	 *
	 * @param process the server
	 * @param connections the connections to it
	 * @param template the template
	 */
	private record OwnRedis(RedisProcess process, LettuceConnectionFactory connections,
			StringRedisTemplate template) implements AutoCloseable {

		static OwnRedis start(Duration commandTimeout) throws Exception {
			RedisProcess process = new RedisProcess();
			process.start();
			LettuceConnectionFactory connections = new LettuceConnectionFactory(
					new RedisStandaloneConfiguration("127.0.0.1", process.port),
					LettuceClientConfiguration.builder().commandTimeout(commandTimeout).build());
			connections.afterPropertiesSet();
			connections.start();
			return new OwnRedis(process, connections, new StringRedisTemplate(connections));
		}

		@Override
		public void close() {
			this.connections.destroy();
			this.process.kill();
		}

	}

	/** A command's calls so far ({@code INFO commandstats}). */
	private static long calls(StringRedisTemplate template, String command) {
		java.util.Properties info = template.execute(
				(RedisCallback<java.util.Properties>) (connection) -> connection.serverCommands().info("commandstats"));
		String stats = (info != null) ? info.getProperty("cmdstat_" + command) : null;
		if (stats == null) {
			return 0;
		}
		for (String part : stats.split(",")) {
			if (part.startsWith("calls=")) {
				return Long.parseLong(part.substring("calls=".length()));
			}
		}
		return 0;
	}

	@Test
	void aTenantWithoutLimitsIsAdmittedWhileRedisIsFrozenAndCountedOnceItAnswers() throws Exception {
		try (OwnRedis own = OwnRedis.start(Duration.ofMillis(300))) {
			StringRedisTemplate frozen = own.template();
			// Leases of 30 s: no renewal (nor its replay of the journal) within the test.
			QuotaProperties properties = new QuotaProperties(Duration.ofSeconds(30), Duration.ofSeconds(1), 3,
					Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofSeconds(1), Map.of(), 100_000, 256,
					Duration.ofMillis(5));
			QuotaBackendCircuit circuit = new QuotaBackendCircuit(3, Duration.ofSeconds(1), Clock.systemUTC(),
					this.meters);
			QuotaService service = new QuotaService(frozen, properties, Clock.systemUTC(), this.meters, circuit);
			this.services.add(service);
			service.status(this.id); // connected
			own.process().signal("STOP");
			// P1 fails closed while Redis is away, but nothing about this tenant needs
			// Redis before the answer.
			QuotaPermit permit = service.admit(tenant(Limits.NONE), Tier.P1, "m", 10, 100L);
			assertThat(permit.local()).isFalse();
			assertThat(service.journaled()).as("its admission, not confirmed").isEqualTo(1);
			assertThatThrownBy(() -> service.admit(tenant(new Limits(100L, null, null, null)), Tier.P1, "m", 1, 1L))
				.isInstanceOf(QuotaException.Unavailable.class);
			assertThat(circuit.state()).isEqualTo(QuotaBackendCircuit.State.CLOSED);
			own.process().signal("CONT");
			// Redis answers again, and the end reaches it before the journal's next
			// replay: it must not pass the admission.
			permit.complete(10, 20);
			assertThat(service.journaled()).isZero();
			QuotaStatus status = service.status(this.id);
			assertThat(status.inFlight()).isZero();
			assertThat(status.monthTokens()).as("the admission applied before the end").isEqualTo(30);
			assertThat(service.usage(this.id, java.time.YearMonth.now(Clock.systemUTC()))).singleElement()
				.satisfies((usage) -> assertThat(usage.requests()).isEqualTo(1));
		}
	}

	@Test
	void aRunningRequestKeepsItsLeaseBeyondTheExpiry() {
		// A 1 s lease renewed every 333 ms, held for three times its length: a renewal
		// thread starved for up to 600 ms (a busy JVM late in the build) still keeps it.
		QuotaService service = service(Duration.ofSeconds(1));
		Tenant tenant = tenant(new Limits(null, null, 1L, null));
		QuotaPermit running = service.admit(tenant, Tier.P1, "m", 1, 1L);
		await().during(Duration.ofSeconds(3))
			.atMost(Duration.ofSeconds(6))
			.untilAsserted(() -> assertThatThrownBy(() -> service.admit(tenant, Tier.P1, "m", 1, 1L))
				.isInstanceOf(QuotaException.Exceeded.class));
		running.complete(1, 1);
		service.admit(tenant, Tier.P1, "m", 1, 1L).close();
	}

	@Test
	void theScriptIsLoadedAgainAfterRedisForgetsIt() {
		QuotaService service = service(Duration.ofSeconds(30));
		Tenant tenant = tenant(new Limits(5L, null, null, null));
		service.admit(tenant, Tier.P1, "m", 1, 1L).complete(1, 1);
		redis.execute((RedisCallback<Object>) (connection) -> {
			connection.scriptingCommands().scriptFlush();
			return null;
		});
		service.admit(tenant, Tier.P1, "m", 1, 1L).complete(1, 1);
		assertThat(service.status(this.id).requestsLastMinute()).isEqualTo(2);
	}

	@Test
	void tenantsDoNotShareCounters() {
		QuotaService service = service(Duration.ofSeconds(30));
		Tenant one = tenant(new Limits(1L, null, null, null));
		Tenant other = new Tenant(this.id + "-b", "Other", Set.of(Tier.P1), Tier.P1, 1,
				new Limits(1L, null, null, null));
		service.admit(one, Tier.P1, "m", 1, 1L).complete(1, 1);
		assertThatThrownBy(() -> service.admit(one, Tier.P1, "m", 1, 1L)).isInstanceOf(QuotaException.Exceeded.class);
		service.admit(other, Tier.P1, "m", 1, 1L).complete(1, 1);
	}

	private Map<String, String> snapshot() {
		Map<String, String> all = new TreeMap<>();
		for (String part : List.of("win", "wintok", "leases", "inflight", "budget")) {
			String key = QuotaService.key(this.id, part);
			String type = redis.type(key).code();
			switch (type) {
				case "zset" -> redis.opsForZSet()
					.rangeWithScores(key, 0, -1)
					.forEach((t) -> all.put(part + ":" + t.getValue(), String.valueOf(t.getScore())));
				case "hash" -> redis.opsForHash().entries(key).forEach((k, v) -> all.put(part + ":" + k, (String) v));
				default -> {
				}
			}
		}
		return all;
	}

	/** Opens the circuit of the service created last, as three timeouts would. */
	private void openCircuit() {
		for (int i = 0; i < 3; i++) {
			this.circuit.allow();
			this.circuit.failure(new org.springframework.dao.QueryTimeoutException("Redis command timed out"));
		}
		assertThat(this.circuit.state()).isEqualTo(QuotaBackendCircuit.State.OPEN);
	}

	@Test
	void settlementsWhileTheCircuitIsOpenAreJournaledAndReplayedExactlyOnceWhenRedisAnswers() {
		QuotaService service = service(Duration.ofSeconds(3));
		Tenant tenant = tenant(new Limits(100L, 1_000_000L, 10L, 10_000_000L));
		QuotaPermit served = service.admit(tenant, Tier.P1, "m", 100, 900);
		QuotaPermit unserved = service.admit(tenant, Tier.P1, "m", 100, 400);
		assertThat(service.status(this.id).monthTokens()).isEqualTo(1_500);
		openCircuit();
		served.complete(120, 30);
		unserved.close();
		assertThat(service.journaled()).isEqualTo(2);
		assertThat(service.status(this.id).monthTokens()).as("nothing settled yet").isEqualTo(1_500);
		// Redis answers again: after open-for, the next renewal's replay is the probe.
		await().atMost(Duration.ofSeconds(10)).until(() -> service.journaled() == 0);
		QuotaStatus status = service.status(this.id);
		assertThat(status.monthTokens()).isEqualTo(150);
		assertThat(status.tokensLastMinute()).isEqualTo(150);
		assertThat(status.inFlight()).isZero();
		assertThat(service.usage(this.id, java.time.YearMonth.now(Clock.systemUTC()))).singleElement()
			.satisfies((usage) -> {
				assertThat(usage.requests()).isEqualTo(1);
				assertThat(usage.promptTokens()).isEqualTo(120);
				assertThat(usage.completionTokens()).isEqualTo(30);
			});
		assertThat(service.mode()).isEqualTo("redis");
		// The same settlement again (a replay whose answer was lost) changes nothing.
		service.settle(new SettlementJournal.Settlement(this.id, false, served.requestId(), 120, 30, "P1", "m", true,
				1_000, served.month(), false));
		assertThat(service.status(this.id).monthTokens()).isEqualTo(150);
		assertThat(this.meters.get("tiergate.quota.journal.settlements").tag("outcome", "replayed").counter().count())
			.isEqualTo(2);
	}

	@Test
	void aSettlementWhoseLeaseExpiredWhileRedisWasAwayStillCorrectsTheChargeAndRecordsTheUsage() {
		QuotaService other = service(Duration.ofSeconds(1));
		// Redis stays away from this replica for four seconds, four lease lives.
		QuotaService replica = service(Duration.ofSeconds(1), Duration.ofSeconds(4));
		Tenant tenant = tenant(new Limits(100L, 1_000_000L, 10L, 10_000_000L));
		QuotaPermit permit = replica.admit(tenant, Tier.P1, "m", 100, 900);
		openCircuit();
		// No renewal while the circuit is open: the lease expires, and another replica's
		// admission clears it with its in-flight record.
		await().atMost(Duration.ofSeconds(5)).until(() -> replica.status(this.id).inFlight() == 0);
		other.admit(tenant, Tier.P1, "m", 5, 5).complete(5, 5);
		permit.complete(100, 50);
		assertThat(replica.journaled()).isEqualTo(1);
		await().atMost(Duration.ofSeconds(10)).until(() -> replica.journaled() == 0);
		assertThat(replica.status(this.id).monthTokens()).isEqualTo(150 + 10);
		assertThat(replica.usage(this.id, java.time.YearMonth.now(Clock.systemUTC()))).singleElement()
			.satisfies((usage) -> assertThat(usage.requests()).isEqualTo(2));
	}

}
