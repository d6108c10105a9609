package dev.tiergate.quota;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.web.bind.annotation.RequestMethod;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping;

import dev.tiergate.FleetIntegrationTestSupport;
import dev.tiergate.RedisProcess;
import dev.tiergate.fleet.SimulatedGpuFleet;
import io.micrometer.core.instrument.MeterRegistry;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Tests for the quota when Redis fails, with the whole application on a
 * {@code redis-server} of its own: frozen (SIGSTOP, every call times out) and killed
 * (SIGKILL, every call is refused) under load, then back. P0 keeps being served under the
 * local limiter, P1 and P2 get 503 {@code quota_unavailable} quickly, no request hangs,
 * and normal mode returns without a restart. The server appends every write to its log so
 * that its tenants survive the kill.
 */
@DirtiesContext
class QuotaOutageIntegrationTests extends FleetIntegrationTestSupport {

	private static final JsonMapper json = JsonMapper.builder().build();

	/**
	 * Longest any request may take while Redis is down: two command timeouts (500 ms) and
	 * slack.
	 */
	private static final Duration NO_HANG = Duration.ofMillis(2500);

	private static RedisProcess redis;

	@Autowired
	@Qualifier("quotaHealthIndicator")
	private HealthIndicator health;

	@Autowired
	private MeterRegistry meters;

	@Autowired
	@Qualifier("requestMappingHandlerMapping")
	private RequestMappingHandlerMapping handlers;

	@DynamicPropertySource
	static void ownRedis(DynamicPropertyRegistry registry) throws Exception {
		redis = new RedisProcess();
		redis.start();
		registry.add("spring.data.redis.port", () -> redis.port);
		// This test's Redis is stopped and frozen on purpose: keep the production
		// timeout.
		registry.add("spring.data.redis.timeout", () -> "500ms");
	}

	@AfterAll
	static void stopRedis() {
		redis.kill();
	}

	private final String id = "out-" + UUID.randomUUID().toString().substring(0, 8);

	record Result(String tier, int status, long millis, String body, Map<String, List<String>> headers) {
	}

	private Result call(String key, String tier) {
		long start = System.nanoTime();
		try {
			HttpResponse<String> response = post("/v1/chat/completions", key, chat(SimulatedGpuFleet.LLAMA, 1),
					"X-Tiergate-Priority", tier);
			return new Result(tier, response.statusCode(), (System.nanoTime() - start) / 1_000_000, response.body(),
					response.headers().map());
		}
		catch (IOException | InterruptedException ex) {
			return new Result(tier, -1, (System.nanoTime() - start) / 1_000_000, ex.toString(), Map.of());
		}
	}

	private String tenantWithKey(String tenantId, String limits) throws Exception {
		return TenantsApiIntegrationTests.on(this.port).createTenant(tenantId, limits);
	}

	private String mode() {
		return (String) this.health.health().getDetails().get("mode");
	}

	@Test
	void p0IsServedLocallyAndP1AndP2FailFastWhileRedisIsDownThenNormalModeReturns() throws Exception {
		String key = tenantWithKey(this.id, "{\"requestsPerMinute\":100000}");
		String tight = tenantWithKey(this.id + "-t", "{\"requestsPerMinute\":3}");
		for (String tier : List.of("P0", "P1", "P2")) {
			assertThat(call(key, tier).status()).isEqualTo(200);
		}
		assertThat(call(tight, "P0").status()).isEqualTo(200);
		assertThat(mode()).isEqualTo("redis");

		ConcurrentLinkedQueue<Result> results = new ConcurrentLinkedQueue<>();
		AtomicBoolean loading = new AtomicBoolean(true);
		ExecutorService load = Executors.newVirtualThreadPerTaskExecutor();
		for (String tier : List.of("P0", "P1", "P2", "P0")) {
			load.submit(() -> {
				while (loading.get()) {
					results.add(call(key, tier));
				}
			});
		}
		try {
			for (String outage : List.of("frozen", "killed")) {
				if (outage.equals("frozen")) {
					redis.signal("STOP");
				}
				else {
					redis.kill();
				}
				await().atMost(Duration.ofSeconds(10)).until(() -> mode().equals("fallback"));
				results.clear();
				await().atMost(Duration.ofSeconds(10))
					.until(() -> results.stream().filter((r) -> r.tier().equals("P0")).count() >= 10
							&& results.stream().filter((r) -> r.tier().equals("P2")).count() >= 5);
				List<Result> during = new ArrayList<>(results);
				assertThat(during).as(outage).allSatisfy((r) -> {
					assertThat(r.millis()).as("%s %s took %d ms", outage, r.tier(), r.millis())
						.isLessThan(NO_HANG.toMillis());
					if (r.tier().equals("P0")) {
						assertThat(r.status()).as(r.body()).isEqualTo(200);
						assertThat(r.headers()).containsKey("x-ratelimit-remaining-requests");
					}
					else {
						assertThat(r.status()).as(r.body()).isEqualTo(503);
						assertThat(r.body()).contains("quota_unavailable");
						assertThat(r.headers()).containsKey("retry-after");
					}
				});
				// The local limiter enforces the same limits: 3 per minute, counted on
				// this replica from the outage on.
				List<Integer> tightStatuses = new ArrayList<>();
				for (int i = 0; i < 4; i++) {
					tightStatuses.add(call(tight, "P0").status());
				}
				if (outage.equals("frozen")) {
					assertThat(tightStatuses).containsExactly(200, 200, 200, 429);
				}
				else {
					assertThat(tightStatuses).as("the local minute still holds the frozen phase's 3").containsOnly(429);
				}

				if (outage.equals("frozen")) {
					redis.signal("CONT");
				}
				else {
					redis.start();
				}
				await().atMost(Duration.ofSeconds(15)).until(() -> mode().equals("redis"));
				results.clear();
				await().atMost(Duration.ofSeconds(10))
					.until(() -> results.stream().filter((r) -> r.tier().equals("P1")).count() >= 5);
				assertThat(new ArrayList<>(results)).as("after the %s outage", outage)
					.allSatisfy((r) -> assertThat(r.status()).as(r.body()).isEqualTo(200));
			}
		}
		finally {
			loading.set(false);
			load.shutdown();
			assertThat(load.awaitTermination(10, TimeUnit.SECONDS)).as("no request hangs").isTrue();
		}
		assertThat(this.meters.get("tiergate.quota.backend.errors").counter().count()).isPositive();
		assertThat(this.meters.get("tiergate.quota.decisions")
			.tags("tier", "P0", "decision", "admitted_local")
			.counter()
			.count()).isPositive();
		assertThat(this.meters.get("tiergate.quota.decisions")
			.tags("tier", "P1", "decision", "unavailable")
			.counter()
			.count()).isPositive();
		assertThat(json.readTree(get("/v1/usage", "Bearer " + key).body()).get("tenant").asString()).isEqualTo(this.id);
	}

	/**
	 * Every page and API that is read without a path variable (found in the handler
	 * mappings, so that a new one is covered), asked by an administrator and, for the
	 * OpenAI-shaped ones, by a tenant, while Redis is killed: none answers 500, each
	 * answers at once.
	 */
	@Test
	void noPageOrApiAnswers500WhileRedisIsDown() throws Exception {
		String key = tenantWithKey(this.id + "-r", "{\"requestsPerMinute\":100000}");
		List<String> paths = this.handlers.getHandlerMethods()
			.keySet()
			.stream()
			.filter((info) -> info.getMethodsCondition().getMethods().isEmpty()
					|| info.getMethodsCondition().getMethods().contains(RequestMethod.GET))
			.flatMap((info) -> info.getPatternValues().stream())
			.filter((path) -> !path.contains("{") && !path.contains("*") && !path.equals("/error"))
			.distinct()
			.sorted()
			.toList();
		assertThat(paths).contains("/api/v1/tenants", "/api/v1/spill", "/v1/batches", "/");
		redis.kill();
		try {
			List<String> failures = new ArrayList<>();
			for (String path : paths) {
				String authorization = path.startsWith("/v1/") ? "Bearer " + key
						: FleetIntegrationTestSupport.basic("admin", "admin");
				long start = System.nanoTime();
				HttpResponse<String> response = get(path, authorization);
				long millis = (System.nanoTime() - start) / 1_000_000;
				if (response.statusCode() >= 500 && response.statusCode() != 503) {
					failures.add(path + " " + response.statusCode() + " " + response.body());
				}
				if (millis > NO_HANG.toMillis()) {
					failures.add(path + " took " + millis + " ms");
				}
				assertThat(response.body()).as(path).doesNotContain("Exception", "\tat ");
			}
			assertThat(failures).as("with Redis down").isEmpty();
		}
		finally {
			redis.start();
			// The circuit closes on the first quota checks that succeed.
			await().atMost(Duration.ofSeconds(15)).until(() -> call(key, "P0").status() > 0 && mode().equals("redis"));
		}
	}

}
