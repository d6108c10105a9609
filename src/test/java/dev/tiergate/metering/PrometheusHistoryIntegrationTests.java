package dev.tiergate.metering;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Import;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import dev.tiergate.EmbeddedDefaults;
import dev.tiergate.HeadlessChromium;
import dev.tiergate.LocalRedis;
import dev.tiergate.TiergateApplication;
import dev.tiergate.cost.GpuProfile;
import dev.tiergate.cost.GpuServiceTimeModel;
import dev.tiergate.cost.ModelProfile;
import dev.tiergate.cost.SliceShare;
import dev.tiergate.fleet.SimulatedGpuFleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

/**
 * The overview's GPU history read from a real Prometheus (Debian's 2.42) that scrapes
 * this Tiergate's {@code /actuator/prometheus} every second: a fleet of its own, one node
 * with two whole GPUs, a llama pod (4 slots) on GPU 0 kept computing by one long stream,
 * a qwen pod (2 slots) on GPU 1 holding one stalled request, so the gauges stand at
 * utilization 1 and occupancy 1/4 on GPU 0, utilization 0 and occupancy 1/2 on GPU 1.
 * Before Prometheus runs, the history is this replica's memory with a warning (and the
 * overview's chart, in a real headless Chromium, says so under it); once it has samples,
 * the history says {@code source: prometheus} and its points match the gauges.
 */
@SpringBootTest(classes = TiergateApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "management.server.port=0", "spring.data.redis.database=" + LocalRedis.TEST_DATABASE,
				"spring.data.redis.timeout=" + LocalRedis.TEST_TIMEOUT, "logging.level.io.fabric8.mockwebserver=WARN",
				"tiergate.metering.dcgm.scrape-interval=1s", "tiergate.metering.dcgm.history-step=5s",
				"tiergate.metrics.prometheus-timeout=5s", "tiergate.proxy.upstream-idle-timeout=5m" })
@Import(EmbeddedDefaults.class)
// A fleet of its own, stopped after the class: close the context too, so that its
// workers and informers do not live on against it.
@DirtiesContext
class PrometheusHistoryIntegrationTests {

	private static final String NODE = "prom-node";

	private static final int PROMETHEUS_PORT = PrometheusServer.freePort();

	private static final SimulatedGpuFleet fleet = startFleet();

	private static final JsonMapper json = JsonMapper.builder().build();

	private static final HttpClient http = HttpClient.newBuilder()
		.version(HttpClient.Version.HTTP_1_1)
		.connectTimeout(Duration.ofSeconds(5))
		.build();

	private static PrometheusServer prometheus;

	@LocalServerPort
	private int port;

	@Value("${local.management.port}")
	private int managementPort;

	@Autowired
	private MeterRegistry meters;

	private static SimulatedGpuFleet startFleet() {
		SimulatedGpuFleet fleet = SimulatedGpuFleet.startEmpty();
		GpuProfile a100 = GpuProfile.a100Sxm80gb();
		fleet.addNode(NODE, a100, 2, 1);
		// Five times slower than an A100: a 3,000-token answer computes for minutes.
		fleet.addPod("llama-0", SimulatedGpuFleet.LLAMA, NODE, 4,
				new GpuServiceTimeModel(a100, ModelProfile.llama31_8b(), SliceShare.none(), 5.0));
		fleet.addPod("qwen-0", SimulatedGpuFleet.QWEN, NODE, 2,
				new GpuServiceTimeModel(a100, ModelProfile.qwen25_32b(), SliceShare.none(), 1.0));
		return fleet;
	}

	@DynamicPropertySource
	static void properties(DynamicPropertyRegistry registry) {
		registry.add("tiergate.cluster.api-server", fleet::apiServerUrl);
		registry.add("tiergate.metrics.prometheus-url", () -> "http://127.0.0.1:" + PROMETHEUS_PORT);
	}

	@AfterAll
	static void close() {
		if (prometheus != null) {
			prometheus.close();
		}
		fleet.close();
	}

	private JsonNode history() throws Exception {
		HttpResponse<String> response = http
			.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + this.port + "/api/v1/metering/gpus/history"))
				.header("Authorization", "Bearer " + EmbeddedDefaults.CI_TOKEN)
				.timeout(Duration.ofSeconds(30))
				.build(), HttpResponse.BodyHandlers.ofString());
		assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
		return json.readTree(response.body());
	}

	private CompletableFuture<HttpResponse<Void>> stream(String model, int maxTokens) {
		String body = "{\"model\":\"" + model + "\",\"stream\":true,\"max_tokens\":" + maxTokens
				+ ",\"messages\":[{\"role\":\"user\",\"content\":\"Keep the GPU busy\"}]}";
		return http
			.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + this.port + "/v1/chat/completions"))
				.header("Authorization", "Bearer " + EmbeddedDefaults.ACME_KEY)
				.header("Content-Type", "application/json")
				.timeout(Duration.ofMinutes(5))
				.POST(HttpRequest.BodyPublishers.ofString(body))
				.build(), HttpResponse.BodyHandlers.discarding());
	}

	private double gauge(String name, String gpu) {
		return this.meters.get(name).tags("node", NODE, "gpu", gpu).gauge().value();
	}

	private static JsonNode gpu(JsonNode history, String gpu) {
		for (JsonNode one : history.get("gpus")) {
			if (one.get("node").asString().equals(NODE) && one.get("gpu").asString().equals(gpu)) {
				return one;
			}
		}
		throw new AssertionError("no " + NODE + "/" + gpu + " in " + history);
	}

	/** Signs in as the viewer and opens the overview. */
	private WebDriverWait openOverview(WebDriver browser) {
		WebDriverWait waiting = new WebDriverWait(browser, Duration.ofSeconds(30));
		browser.get("http://127.0.0.1:" + this.port + "/login");
		browser.findElement(By.id("username")).sendKeys("viewer");
		browser.findElement(By.id("password")).sendKeys("viewer");
		browser.findElement(By.id("sign-in")).click();
		waiting.until(ExpectedConditions.not(ExpectedConditions.urlContains("/login")));
		browser.get("http://127.0.0.1:" + this.port + "/");
		return waiting;
	}

	/** The newest point whose whole step lies in the past (the newest one is partial). */
	private static JsonNode lastCompletePoint(JsonNode gpu) {
		JsonNode points = gpu.get("points");
		assertThat(points.size()).as(gpu.toString()).isGreaterThanOrEqualTo(2);
		return points.get(points.size() - 2);
	}

	@Test
	void historyComesFromPrometheusAndMatchesTheGaugesItScraped(@TempDir Path directory) throws Exception {
		PrometheusServer.require();
		// The GPUs are scraped (every second) before anything else.
		await().atMost(Duration.ofSeconds(30))
			.until(() -> this.meters.find("tiergate.gpu.slots").tags("node", NODE, "gpu", "1").gauge() != null
					&& gauge("tiergate.gpu.slots", "0") == 4 && gauge("tiergate.gpu.slots", "1") == 2);

		// Prometheus is configured but not running yet: this replica's memory, and why.
		JsonNode before = history();
		assertThat(before.get("source").asString()).isEqualTo("memory");
		assertThat(before.get("warning").asString()).startsWith("Prometheus unreachable");
		assertThat(before.get("gpus").size()).isEqualTo(2);
		WebDriver browser = HeadlessChromium.start();
		try {
			WebDriverWait waiting = openOverview(browser);
			waiting.until(ExpectedConditions.attributeToBe(By.id("gpu-history"), "data-history-source", "memory"));
			assertThat(browser.findElement(By.id("gpu-history-note")).getText())
				.startsWith("Prometheus not used: Prometheus unreachable")
				.endsWith("showing this replica's own history since its start.");
			assertThat(browser.findElement(By.id("gpu-history-note")).getAttribute("class"))
				.isEqualTo("history-warning");
		}
		finally {
			browser.quit();
		}

		fleet.server("qwen-0").stallNextRequests(1);
		List<CompletableFuture<HttpResponse<Void>>> load = List.of(stream(SimulatedGpuFleet.LLAMA, 3000),
				stream(SimulatedGpuFleet.QWEN, 10));
		try {
			await().atMost(Duration.ofSeconds(30))
				.until(() -> gauge("tiergate.gpu.slots.inflight", "0") == 1
						&& gauge("tiergate.gpu.slots.inflight", "1") == 1
						&& gauge("tiergate.gpu.utilization", "0") == 1.0);
			prometheus = PrometheusServer.start(directory, PROMETHEUS_PORT, "127.0.0.1:" + this.managementPort,
					"/actuator/prometheus", Duration.ofSeconds(1));

			// Two whole 5 s steps with the load steady, scraped every second.
			await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
				JsonNode history = history();
				assertThat(history.get("source").asString()).as("%s%n%s", history, prometheus.log())
					.isEqualTo("prometheus");
				assertThat(history.hasNonNull("warning")).isFalse();
				JsonNode busy = lastCompletePoint(gpu(history, "0"));
				JsonNode stalled = lastCompletePoint(gpu(history, "1"));
				JsonNode points = gpu(history, "0").get("points");
				assertThat(points.size()).as(history.toString()).isGreaterThanOrEqualTo(3);
				assertThat(points.get(points.size() - 3).get("utilization").asDouble()).as(history.toString())
					.isEqualTo(1.0);
				assertThat(busy.get("utilization").asDouble()).isEqualTo(gauge("tiergate.gpu.utilization", "0"));
				assertThat(busy.get("slotOccupancy").asDouble()).isEqualTo(
						gauge("tiergate.gpu.slots.inflight", "0") / gauge("tiergate.gpu.slots", "0"), within(1e-9));
				assertThat(stalled.get("utilization").asDouble()).isEqualTo(gauge("tiergate.gpu.utilization", "1"));
				assertThat(stalled.get("slotOccupancy").asDouble()).isEqualTo(
						gauge("tiergate.gpu.slots.inflight", "1") / gauge("tiergate.gpu.slots", "1"), within(1e-9));
			});
			// The figures the gauges stood at, by the setup.
			JsonNode history = history();
			assertThat(lastCompletePoint(gpu(history, "0")).get("utilization").asDouble()).isEqualTo(1.0);
			assertThat(lastCompletePoint(gpu(history, "0")).get("slotOccupancy").asDouble()).isEqualTo(0.25);
			assertThat(lastCompletePoint(gpu(history, "1")).get("utilization").asDouble()).isZero();
			assertThat(lastCompletePoint(gpu(history, "1")).get("slotOccupancy").asDouble()).isEqualTo(0.5);
			assertThat(history.get("gpus").size()).isEqualTo(2);
			// The overview's chart now says where its hour comes from, without a warning.
			WebDriver again = HeadlessChromium.start();
			try {
				WebDriverWait waiting = openOverview(again);
				waiting
					.until(ExpectedConditions.attributeToBe(By.id("gpu-history"), "data-history-source", "prometheus"));
				assertThat(again.findElement(By.id("gpu-history-note")).getText())
					.isEqualTo("Last hour from Prometheus (all replicas).");
				// Utilization and slot occupancy of the one node.
				waiting.until(ExpectedConditions.attributeToBe(By.id("gpu-history"), "data-series", "2"));
			}
			finally {
				again.quit();
			}
		}
		finally {
			load.forEach((call) -> call.cancel(true));
		}
	}

}
