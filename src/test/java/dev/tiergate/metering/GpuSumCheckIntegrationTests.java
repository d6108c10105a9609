package dev.tiergate.metering;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.test.annotation.DirtiesContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Import;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import dev.tiergate.EmbeddedDefaults;
import dev.tiergate.LocalRedis;
import dev.tiergate.TiergateApplication;
import dev.tiergate.fleet.SimulatedGpuFleet;
import dev.tiergate.fleet.SimulatedInferenceServer;
import dev.tiergate.routing.EndpointRegistry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The sum check on the embedded fleet: under mixed load (both pools, three tiers, P0
 * preempting P2 on the small pool) the busy GPU-seconds attributed to leases match, per
 * GPU and per node, the busy time the simulated DCGM exporters measure within 1%, and the
 * unattributed remainder is reported in the API and as a metric. A fleet of its own (no
 * other test's traffic), at an A100's real speed so that a request lasts seconds and the
 * few milliseconds between a lease and its engine work stay well under 1%; the exporters'
 * sample period and the scrape interval are both 1 s.
 */
@SpringBootTest(classes = TiergateApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "management.server.port=0", "spring.data.redis.database=" + LocalRedis.TEST_DATABASE,
				"spring.data.redis.timeout=" + LocalRedis.TEST_TIMEOUT, "logging.level.io.fabric8.mockwebserver=WARN",
				"tiergate.metering.flush-interval=1s", "tiergate.metering.dcgm.scrape-interval=1s",
				"tiergate.metering.dcgm.history-step=5s" })
@Import(EmbeddedDefaults.class)
// Its fleet is stopped after the class: close the context too, so that its batch workers
// and informers do
// not live on against a fleet that is gone (they would take other tests' batch items from
// the shared Redis).
@DirtiesContext
class GpuSumCheckIntegrationTests {

	private static final SimulatedGpuFleet fleet = SimulatedGpuFleet.startDefault(1.0);

	private static final JsonMapper json = JsonMapper.builder().build();

	private static final String CI = "Bearer " + EmbeddedDefaults.CI_TOKEN;

	private static final HttpClient http = HttpClient.newBuilder()
		.version(HttpClient.Version.HTTP_1_1)
		.connectTimeout(Duration.ofSeconds(5))
		.build();

	@LocalServerPort
	private int port;

	@Autowired
	private EndpointRegistry registry;

	@Autowired
	private DcgmReadings readings;

	@Autowired
	private GpuMeasurements measurements;

	@Autowired
	private GpuUsageWriter writer;

	@Autowired
	private GpuMeter meter;

	@Autowired
	private MeterRegistry meters;

	@Autowired
	private Clock clock;

	@DynamicPropertySource
	static void fleet(DynamicPropertyRegistry registry) {
		registry.add("tiergate.cluster.api-server", fleet::apiServerUrl);
	}

	@AfterAll
	static void close() {
		fleet.close();
	}

	private HttpResponse<String> send(String method, String path, String authorization, String body) throws Exception {
		HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + this.port + path))
			.timeout(Duration.ofSeconds(60))
			.header("Content-Type", "application/json")
			.method(method,
					(body != null) ? HttpRequest.BodyPublishers.ofString(body) : HttpRequest.BodyPublishers.noBody());
		if (authorization != null) {
			request.header("Authorization", authorization);
		}
		return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
	}

	private String createTenant(String id) throws Exception {
		HttpResponse<String> created = send("POST", "/api/v1/tenants", CI, """
				{"id":"%s","displayName":"Sum check","allowedTiers":["P0","P1","P2"],"defaultTier":"P1","weight":1,
				 "limits":{}}""".formatted(id));
		assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
		HttpResponse<String> key = send("POST", "/api/v1/tenants/" + id + "/keys", CI, null);
		assertThat(key.statusCode()).as(key.body()).isEqualTo(201);
		return json.readTree(key.body()).get("key").asString();
	}

	/** When the last scrape of every GPU was taken. */
	private Instant oldestScrape() {
		Instant now = this.clock.instant();
		return this.readings.readings(now, Duration.ofMinutes(1))
			.stream()
			.filter((reading) -> reading.sample() != null)
			.map((reading) -> now.minus(reading.age()))
			.min(Instant::compareTo)
			.orElse(Instant.MIN);
	}

	@Test
	void attributedBusyTimeMatchesMeasuredPerGpuWithinOnePercentUnderMixedLoad() throws Exception {
		String online = "sum-on-" + UUID.randomUUID().toString().substring(0, 6);
		String batch = "sum-b-" + UUID.randomUUID().toString().substring(0, 6);
		String onlineKey = createTenant(online);
		String batchKey = createTenant(batch);
		await().atMost(Duration.ofSeconds(30)).until(() -> this.registry.endpoints().size() == 24);
		// Every GPU read twice, so that measured time counts from before the load.
		await().atMost(Duration.ofSeconds(30))
			.until(() -> this.readings.readings(this.clock.instant(), Duration.ofMinutes(1))
				.stream()
				.filter((r) -> r.sample() != null)
				.count() == 8);
		Instant seen = this.clock.instant();
		await().atMost(Duration.ofSeconds(30)).until(() -> oldestScrape().isAfter(seen));

		record Stream(String key, String tier, String model, int threads) {
		}
		List<Stream> streams = List.of(new Stream(batchKey, "P2", SimulatedGpuFleet.QWEN, 12),
				new Stream(onlineKey, "P0", SimulatedGpuFleet.QWEN, 4),
				new Stream(onlineKey, "P1", SimulatedGpuFleet.LLAMA, 10),
				new Stream(batchKey, "P2", SimulatedGpuFleet.LLAMA, 12),
				new Stream(onlineKey, "P0", SimulatedGpuFleet.LLAMA, 2));
		long loadStarted = System.nanoTime();
		Map<Integer, AtomicLong> statuses = new ConcurrentHashMap<>();
		long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
		try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
			int seed = 0;
			for (Stream stream : streams) {
				for (int i = 0; i < stream.threads(); i++) {
					Random random = new Random(1000 + seed++);
					threads.execute(() -> {
						while (System.nanoTime() < deadline) {
							String body = """
									{"model":"%s","messages":[{"role":"user","content":"%s"}],"max_tokens":%d}"""
								.formatted(stream.model(), "word ".repeat(20 + random.nextInt(200)),
										600 + random.nextInt(400));
							try {
								HttpResponse<String> response = http.send(HttpRequest
									.newBuilder(URI.create("http://127.0.0.1:" + this.port + "/v1/chat/completions"))
									.timeout(Duration.ofSeconds(180))
									.header("Content-Type", "application/json")
									.header("Authorization", "Bearer " + stream.key())
									.header("X-Tiergate-Priority", stream.tier())
									.POST(HttpRequest.BodyPublishers.ofString(body))
									.build(), HttpResponse.BodyHandlers.ofString());
								statuses.computeIfAbsent(response.statusCode(), (s) -> new AtomicLong())
									.incrementAndGet();
							}
							catch (Exception ex) {
								statuses.computeIfAbsent(-1, (s) -> new AtomicLong()).incrementAndGet();
							}
						}
					});
				}
			}
		}
		assertThat(statuses.getOrDefault(200, new AtomicLong()).get()).as(statuses.toString()).isGreaterThan(30);

		// Every engine idle and every lease ended, then a scrape whose window lies wholly
		// after that, then the attribution drained up to now.
		await().atMost(Duration.ofSeconds(180))
			.until(() -> fleet.pods()
				.stream()
				.map(fleet::server)
				.allMatch((SimulatedInferenceServer server) -> server.running() == 0 && server.waiting() == 0));
		await().atMost(Duration.ofSeconds(30)).until(() -> {
			this.writer.flush();
			return this.meter.running(online) == 0 && this.meter.running(batch) == 0
					&& this.measurements.report(this.clock.instant(), Duration.ofMinutes(1))
						.nodes()
						.stream()
						.allMatch((n) -> n.unplacedBusySeconds() == 0);
		});
		Instant idle = this.clock.instant();
		await().atMost(Duration.ofSeconds(30))
			.until(() -> oldestScrape().isAfter(idle.plus(SimulatedGpuFleet.DCGM_SAMPLE_PERIOD)));
		this.writer.flush();

		GpuMeasurements.Report report = this.measurements.report(this.clock.instant(), Duration.ofMinutes(1));
		assertThat(report.nodes()).hasSize(2);
		List<String> lines = new ArrayList<>();
		long loadEnded = System.nanoTime();
		for (GpuMeasurements.NodeFigures node : report.nodes()) {
			assertThat(node.gpus()).hasSize(4);
			for (GpuMeasurements.GpuFigures gpu : node.gpus()) {
				// The engine model's own busy time, for the message.
				double truth = fleet.dcgmExporter(gpu.node())
					.busySeconds(Integer.parseInt(gpu.gpu()), loadStarted - 1_000_000_000L, loadEnded);
				lines.add("%s/%s measured %.3f attributed %.3f engine %.3f".formatted(gpu.node(), gpu.gpu(),
						gpu.measuredBusySeconds(), gpu.attributedBusySeconds(), truth));
			}
		}
		for (GpuMeasurements.NodeFigures node : report.nodes()) {
			assertThat(node.measuredBusySeconds()).as(lines.toString()).isGreaterThan(5);
			assertThat(Math.abs(node.unattributedSeconds())).as("node %s: %s", node.node(), lines)
				.isLessThanOrEqualTo(0.01 * node.measuredBusySeconds());
			for (GpuMeasurements.GpuFigures gpu : node.gpus()) {
				assertThat(gpu.measuredBusySeconds()).as(lines.toString()).isGreaterThan(1);
				assertThat(gpu.pods()).hasSize(3);
				assertThat(Math.abs(gpu.unattributedSeconds())).as("GPU %s/%s: %s", gpu.node(), gpu.gpu(), lines)
					.isLessThanOrEqualTo(0.01 * gpu.measuredBusySeconds());
			}
		}

		// The remainder is reported, not hidden: in the API and as a metric.
		JsonNode api = json.readTree(send("GET", "/api/v1/metering/gpus", CI, null).body());
		assertThat(api.get("nodes")).hasSize(2);
		JsonNode first = api.get("nodes").get(0);
		assertThat(first.get("unattributedSeconds").asDouble()).isEqualTo(report.nodes().get(0).unattributedSeconds(),
				org.assertj.core.api.Assertions.within(0.5));
		assertThat(first.get("gpus").get(0).has("unattributedSeconds")).isTrue();
		assertThat(this.meters.find("tiergate.gpu.unattributed.seconds").tag("node", "gpu-node-1").gauge()).isNotNull();
		assertThat(this.meters.find("tiergate.gpu.utilization").tags("node", "gpu-node-2", "gpu", "3").gauge())
			.isNotNull();
		JsonNode history = json.readTree(send("GET", "/api/v1/metering/gpus/history", CI, null).body());
		// No Prometheus configured: this replica's memory, without a warning.
		assertThat(history.get("source").asString()).isEqualTo("memory");
		assertThat(history.hasNonNull("warning")).isFalse();
		assertThat(history.get("gpus")).hasSize(8);
		assertThat(history.get("gpus").get(0).get("points").size()).isPositive();
	}

}
