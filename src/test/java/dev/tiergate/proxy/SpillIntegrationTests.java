package dev.tiergate.proxy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import dev.tiergate.EmbeddedDefaults;
import dev.tiergate.FleetIntegrationTestSupport;
import dev.tiergate.dispatch.DispatchRuntime;
import dev.tiergate.dispatch.PoolSnapshot;
import dev.tiergate.fleet.SimulatedGpuFleet;
import dev.tiergate.fleet.SimulatedHostedApi;
import dev.tiergate.fleet.SimulatedInferenceServer;
import dev.tiergate.routing.EndpointRegistry;
import dev.tiergate.requestlog.RedisRequestLog;
import dev.tiergate.spill.SpillBudget;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

/**
 * Tests for spill, end to end: the qwen pool's every slot held by P0 requests on hung
 * engines, then requests that find no slot go to the simulated hosted API, or not, as
 * their tier's rules say.
 */
@ExtendWith(OutputCaptureExtension.class)
class SpillIntegrationTests extends FleetIntegrationTestSupport {

	private static final String KEY = "sk-integration-hosted-key-42";

	private static final SimulatedHostedApi hosted = start();

	private static final JsonMapper JSON = JsonMapper.builder().build();

	@Autowired
	private EndpointRegistry registry;

	@Autowired
	private DispatchRuntime dispatcher;

	@Autowired
	private SpillBudget budget;

	@Autowired
	private RedisRequestLog requestLog;

	@Autowired
	private StringRedisTemplate redis;

	private static SimulatedHostedApi start() {
		try {
			return new SimulatedHostedApi(KEY);
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	@DynamicPropertySource
	static void spill(DynamicPropertyRegistry registry) {
		String upstream = "tiergate.spill.upstreams.[" + SimulatedGpuFleet.QWEN + "].";
		registry.add(upstream + "base-uri", () -> hosted.baseUri().toString());
		registry.add(upstream + "model", () -> "hosted-qwen");
		registry.add(upstream + "api-key", () -> KEY);
		registry.add(upstream + "timeout", () -> "1s");
		registry.add("tiergate.spill.monthly-cap", () -> "1000");
		registry.add("tiergate.spill.tiers.P1.spill", () -> "when-saturated");
		registry.add("tiergate.spill.tiers.P1.spill-after", () -> "300ms");
	}

	@AfterAll
	static void stop() {
		hosted.close();
	}

	@Test
	void whenTheFleetIsSaturatedP0SpillsAtOnceP1AfterItsWaitP2NeverAndHostedFailuresGoBackToTheFleet(
			CapturedOutput output) throws Exception {
		await().atMost(Duration.ofSeconds(10)).until(() -> this.registry.pool(SimulatedGpuFleet.QWEN).size() == 4);
		// The fleet has room: served by it.
		HttpResponse<String> fleetServed = post("/v1/chat/completions", EmbeddedDefaults.ACME_KEY,
				chat(SimulatedGpuFleet.QWEN, 4), "X-Tiergate-Priority", "P0");
		assertThat(fleetServed.statusCode()).isEqualTo(200);
		assertThat(fleetServed.headers().firstValue("x-tiergate-served-by")).hasValue("fleet");
		List<SimulatedInferenceServer> servers = fleet().servers(SimulatedGpuFleet.QWEN);
		int slots = qwen().acceptingSlots();
		List<Socket> holders = new ArrayList<>();
		try {
			servers.forEach((server) -> server.stallNextRequests(slots / servers.size()));
			for (int i = 0; i < slots; i++) {
				holders.add(rawPost(EmbeddedDefaults.ACME_KEY, "P0", chat(SimulatedGpuFleet.QWEN, 50)));
			}
			await().atMost(Duration.ofSeconds(10)).until(() -> qwen().used() == slots && qwen().free() == 0);
			double spentBefore = this.budget.tenantSpend("acme");
			long hostedBefore = hostedRequests("acme");

			// P0: no slot, no lease it may preempt: to the hosted API at once.
			Instant before = Instant.now();
			HttpResponse<String> p0 = post("/v1/chat/completions", EmbeddedDefaults.ACME_KEY,
					chat(SimulatedGpuFleet.QWEN, 8), "X-Tiergate-Priority", "P0");
			Instant after = Instant.now();
			assertThat(p0.statusCode()).isEqualTo(200);
			assertThat(p0.headers().firstValue("x-tiergate-served-by")).hasValue("hosted");
			assertThat(p0.body()).contains("\"service_tier\":\"priority\"").doesNotContain(KEY);
			assertThat(hosted.received()).last()
				.satisfies((body) -> assertThat(body.path("model").asString()).isEqualTo("hosted-qwen"));
			assertThat(this.budget.tenantSpend("acme")).isGreaterThan(spentBefore);
			// Its usage record and its request log record say so.
			assertThat(hostedRequests("acme")).isGreaterThan(hostedBefore);
			this.requestLog.flush();
			String logged = get(
					"/api/v1/request-log?tenant=acme&format=jsonl&from="
							+ java.net.URLEncoder.encode(before.toString(), StandardCharsets.UTF_8) + "&to="
							+ java.net.URLEncoder.encode(after.toString(), StandardCharsets.UTF_8),
					basic("admin", "admin"))
				.body();
			// A tenant's spend is its own: each tenant's usage shows its own spend.
			JsonNode acmeUsage = JSON.readTree(get("/v1/usage", "Bearer " + EmbeddedDefaults.ACME_KEY).body());
			assertThat(acmeUsage.get("spill").get("spend_usd").asDouble())
				.isCloseTo(this.budget.tenantSpend("acme"), within(1e-6))
				.isGreaterThan(0);
			JsonNode batchcoUsage = JSON.readTree(get("/v1/usage", "Bearer " + EmbeddedDefaults.BATCHCO_KEY).body());
			assertThat(batchcoUsage.get("tenant").asString()).isEqualTo("batchco");
			assertThat(batchcoUsage.get("spill").get("spend_usd").asDouble())
				.isCloseTo(this.budget.tenantSpend("batchco"), within(1e-6));
			JsonNode acmeApi = JSON.readTree(get("/api/v1/tenants/acme/usage", basic("viewer", "viewer")).body());
			assertThat(acmeApi.get("spill").get("spend_usd").asDouble())
				.isEqualTo(acmeUsage.get("spill").get("spend_usd").asDouble());
			assertThat(acmeApi.get("spill").get("global_cap_usd").asDouble()).isEqualTo(1000);
			assertThat(page("/quota/tenants/acme")).doesNotContain(KEY)
				.contains("id=\"spill-spend\"")
				.contains(String.format(java.util.Locale.ROOT, "$%.2f", this.budget.tenantSpend("acme")));
			assertThat(logged.lines().filter((line) -> line.contains("\"model\":\"" + SimulatedGpuFleet.QWEN + "\"")))
				.anySatisfy((line) -> assertThat(line).contains("\"servedBy\":\"hosted\""));

			// P1 waits its spill-after (300ms) for the fleet first.
			long started = System.nanoTime();
			HttpResponse<String> p1 = post("/v1/chat/completions", EmbeddedDefaults.ACME_KEY,
					chat(SimulatedGpuFleet.QWEN, 8), "X-Tiergate-Priority", "P1");
			assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofMillis(300));
			assertThat(p1.statusCode()).isEqualTo(200);
			assertThat(p1.headers().firstValue("x-tiergate-served-by")).hasValue("hosted");

			// P2 never spills: it waits in line.
			int received = hosted.received().size();
			try (Socket p2 = rawPost(EmbeddedDefaults.ACME_KEY, "P2", chat(SimulatedGpuFleet.QWEN, 8))) {
				await().atMost(Duration.ofSeconds(5)).until(() -> qwen().queued() == 1);
				await().during(Duration.ofMillis(500)).until(() -> hosted.received().size() == received);
			}
			await().atMost(Duration.ofSeconds(3)).until(() -> qwen().queued() == 0);

			// Hosted failures go back to waiting for the fleet within the tier's
			// deadline: with no slot freed, P0 gets the usual 503 queue_timeout after its
			// 2 s, never a 500.
			hosted.failNext(1, 429);
			assertFallsBackToQueueTimeout();
			hosted.failNext(1, 500);
			assertFallsBackToQueueTimeout();
			hosted.hang(Duration.ofSeconds(3));
			assertFallsBackToQueueTimeout();
			hosted.hang(Duration.ZERO);
			// The hung call, given up on, still answers when it wakes: let it, before
			// the next failure is armed.
			await().atMost(Duration.ofSeconds(5)).until(() -> hosted.handling() == 0);

			// A slot that frees within the deadline serves it.
			hosted.failNext(1, 500);
			int sent = hosted.received().size();
			CompletableFuture<HttpResponse<String>> later = CompletableFuture.supplyAsync(() -> {
				try {
					return post("/v1/chat/completions", EmbeddedDefaults.ACME_KEY, chat(SimulatedGpuFleet.QWEN, 8),
							"X-Tiergate-Priority", "P1");
				}
				catch (IOException | InterruptedException ex) {
					throw new IllegalStateException(ex);
				}
			});
			// Tried the hosted API, back in the queue.
			await().atMost(Duration.ofSeconds(5)).until(() -> hosted.received().size() > sent && qwen().queued() == 1);
			holders.remove(0).close();
			HttpResponse<String> served = later.get(20, TimeUnit.SECONDS);
			assertThat(served.statusCode()).isEqualTo(200);
			assertThat(served.headers().firstValue("x-tiergate-served-by")).hasValue("fleet");
			assertThat(served.body()).doesNotContain(KEY);
			// The key went to the hosted API, and nowhere into the application's log.
			assertThat(hosted.authorizations()).contains("Bearer " + KEY);
			assertThat(output.getAll()).doesNotContain(KEY);
		}
		finally {
			servers.forEach((server) -> server.stallNextRequests(0));
			for (Socket socket : holders) {
				socket.close();
			}
		}
	}

	@Test
	void spendAndCapsAreShownWithoutTheKeyAndCapChangesAreAudited() throws Exception {
		String viewer = basic("viewer", "viewer");
		String admin = basic("admin", "admin");
		HttpResponse<String> overview = get("/api/v1/spill", viewer);
		assertThat(overview.statusCode()).isEqualTo(200);
		assertThat(overview.body()).contains("hosted-qwen")
			.contains("\"monthlyCap\":1000")
			.contains("when-saturated")
			.doesNotContain(KEY);
		String page = page("/");
		assertThat(page).contains("id=\"spill-spend\"").contains("/ $1000.00").doesNotContain(KEY);
		HttpResponse<String> tenant = get("/api/v1/spill/tenants/acme", viewer);
		assertThat(tenant.statusCode()).isEqualTo(200);
		assertThat(tenant.body()).contains("\"tenant\":\"acme\"").contains("\"spend\"");
		assertThat(send("PUT", "/api/v1/spill/caps", viewer, "{\"monthlyCap\":5}").statusCode()).isEqualTo(403);
		HttpResponse<String> invalid = send("PUT", "/api/v1/spill/caps", admin, "{\"monthlyCap\":-1}");
		assertThat(invalid.statusCode()).isEqualTo(400);
		assertThat(invalid.headers().firstValue("Content-Type"))
			.hasValueSatisfying((type) -> assertThat(type).startsWith("application/problem+json"));
		try {
			HttpResponse<String> changed = send("PUT", "/api/v1/spill/caps", admin,
					"{\"monthlyCap\":900,\"tenantCaps\":{\"batchco\":5}}");
			assertThat(changed.statusCode()).isEqualTo(200);
			assertThat(changed.body()).contains("\"monthlyCap\":900").contains("batchco");
			// A tenant with a cap of its own sees its spend against it.
			assertThat(page("/quota/tenants/batchco")).contains("id=\"spill-spend\"")
				.contains(" / $5.00")
				.contains("spill to hosted APIs / monthly cap");
			assertThat(get("/api/v1/tenants/batchco/usage", viewer).body()).contains("\"cap_usd\":5.0");
			HttpResponse<String> audit = get("/api/v1/audit?kind=spill&limit=10", viewer);
			assertThat(audit.body()).contains("update-caps").contains("900").doesNotContain(KEY);
		}
		finally {
			// Run-time caps are kept in Redis: back to the start-up caps.
			this.redis.delete("tg:spill:{spend}:caps");
		}
	}

	/** A dashboard page, as a signed-in viewer sees it. */
	private String page(String path) throws Exception {
		java.net.http.HttpClient browser = java.net.http.HttpClient.newBuilder()
			.cookieHandler(new java.net.CookieManager())
			.build();
		String loginPage = browser
			.send(java.net.http.HttpRequest.newBuilder(uri("/login")).build(), HttpResponse.BodyHandlers.ofString())
			.body();
		java.util.regex.Matcher csrf = java.util.regex.Pattern.compile("name=\"_csrf\" value=\"([^\"]+)\"")
			.matcher(loginPage);
		assertThat(csrf.find()).isTrue();
		browser.send(java.net.http.HttpRequest.newBuilder(uri("/login"))
			.header("Content-Type", "application/x-www-form-urlencoded")
			.POST(java.net.http.HttpRequest.BodyPublishers
				.ofString("username=viewer&password=viewer&_csrf=" + csrf.group(1)))
			.build(), HttpResponse.BodyHandlers.ofString());
		HttpResponse<String> page = browser.send(java.net.http.HttpRequest.newBuilder(uri(path)).build(),
				HttpResponse.BodyHandlers.ofString());
		assertThat(page.statusCode()).isEqualTo(200);
		return page.body();
	}

	private void assertFallsBackToQueueTimeout() throws Exception {
		int sent = hosted.received().size();
		HttpResponse<String> response = post("/v1/chat/completions", EmbeddedDefaults.ACME_KEY,
				chat(SimulatedGpuFleet.QWEN, 8), "X-Tiergate-Priority", "P0");
		assertThat(hosted.received()).hasSize(sent + 1);
		assertThat(response.statusCode()).isEqualTo(503);
		assertThat(response.headers().firstValue("Retry-After")).isPresent();
		assertThat(response.headers().firstValue("x-tiergate-served-by")).isEmpty();
		assertThat(response.body()).contains("\"queue_timeout\"").doesNotContain(KEY);
	}

	private long hostedRequests(String tenant) throws Exception {
		HttpResponse<String> usage = get("/api/v1/tenants/" + tenant + "/usage", basic("viewer", "viewer"));
		assertThat(usage.statusCode()).isEqualTo(200);
		return JSON.readTree(usage.body()).get("totals").get("hosted_requests").asLong();
	}

	private PoolSnapshot qwen() {
		return this.dispatcher.snapshots()
			.stream()
			.filter((pool) -> pool.pool().equals(SimulatedGpuFleet.QWEN))
			.findFirst()
			.orElseThrow();
	}

}
