package dev.tiergate.routing;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

import org.springframework.test.annotation.DirtiesContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Import;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import dev.tiergate.EmbeddedDefaults;
import dev.tiergate.LocalRedis;
import dev.tiergate.TiergateApplication;
import dev.tiergate.cost.GpuProfile;
import dev.tiergate.cost.GpuServiceTimeModel;
import dev.tiergate.cost.ModelProfile;
import dev.tiergate.cost.SliceShare;
import dev.tiergate.dispatch.DispatchRuntime;
import dev.tiergate.dispatch.PoolSnapshot;
import dev.tiergate.fleet.SimulatedGpuFleet;
import dev.tiergate.fleet.SimulatedInferenceServer;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Chaos on a simulated fleet of the test's own, through the whole app: servers that die
 * mid-stream, refuse connections or drop them before the first byte, and models whose
 * pods all go away. Each test breaks a model of its own (servers cannot be started
 * again). Also the endpoints API and the endpoint metrics.
 */
@SpringBootTest(classes = TiergateApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "management.server.port=0", "spring.data.redis.database=" + LocalRedis.TEST_DATABASE,
				"spring.data.redis.timeout=" + LocalRedis.TEST_TIMEOUT, "logging.level.io.fabric8.mockwebserver=WARN",
				"tiergate.routing.policy.[chaos-affinity]=prefix-affinity",
				"tiergate.routing.policy.[chaos-stream]=queue-aware", "tiergate.proxy.upstream-idle-timeout=1s" })
@Import(EmbeddedDefaults.class)
// Its fleet is stopped after the class: close the context too, so that its batch workers
// and informers do
// not live on against a fleet that is gone (they would take other tests' batch items from
// the shared Redis).
@DirtiesContext
class RoutingChaosIntegrationTests {

	private static final String[] MODELS = { "chaos-stream", "chaos-refused", "chaos-dropped", "chaos-gone",
			"chaos-affinity", "chaos-api", "chaos-stall" };

	private static final SimulatedGpuFleet fleet = startFleet();

	private static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

	private static final JsonMapper json = JsonMapper.builder().build();

	@LocalServerPort
	private int port;

	@Value("${local.management.port}")
	private int managementPort;

	@Autowired
	private DispatchRuntime runtime;

	@Autowired
	private dev.tiergate.quota.QuotaService quota;

	private static SimulatedGpuFleet startFleet() {
		SimulatedGpuFleet fleet = SimulatedGpuFleet.startEmpty();
		GpuProfile a100 = GpuProfile.a100Sxm80gb();
		fleet.addNode("gpu-a", a100, 4, 4);
		GpuServiceTimeModel timing = new GpuServiceTimeModel(a100, ModelProfile.llama31_8b(), SliceShare.mps(4), 0.05);
		for (String model : MODELS) {
			int pods = model.equals("chaos-affinity") ? 3 : 2;
			for (int i = 0; i < pods; i++) {
				fleet.addPod(model + "-" + i, model, "gpu-a", 4, timing);
			}
		}
		return fleet;
	}

	@DynamicPropertySource
	static void fleet(DynamicPropertyRegistry registry) {
		registry.add("tiergate.cluster.api-server", fleet::apiServerUrl);
	}

	@AfterAll
	static void stopFleet() {
		fleet.close();
	}

	@BeforeEach
	void fleetIsDiscovered() {
		await().atMost(Duration.ofSeconds(10))
			.until(() -> this.runtime.snapshots()
				.stream()
				.filter((s) -> s.pool().startsWith("chaos-"))
				.count() == MODELS.length);
	}

	private PoolSnapshot snapshot(String model) {
		return this.runtime.snapshots().stream().filter((s) -> s.pool().equals(model)).findFirst().orElseThrow();
	}

	private HttpRequest.Builder completion(String model, boolean stream, int maxTokens, String content) {
		return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + this.port + "/v1/chat/completions"))
			.header("Authorization", "Bearer " + EmbeddedDefaults.ACME_KEY)
			.header("Content-Type", "application/json")
			.header("X-Tiergate-Priority", "P1")
			.timeout(Duration.ofSeconds(60))
			.POST(HttpRequest.BodyPublishers
				.ofString("{\"model\":\"" + model + "\",\"stream\":" + stream + ",\"max_tokens\":" + maxTokens
						+ ",\"messages\":[{\"role\":\"user\",\"content\":\"" + content + "\"}]}"));
	}

	private HttpResponse<String> complete(String model) throws Exception {
		return http.send(completion(model, false, 4, "hello").build(), HttpResponse.BodyHandlers.ofString());
	}

	private HttpResponse<String> api(String path) throws Exception {
		return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + this.port + path))
			.header("Authorization", "Bearer " + EmbeddedDefaults.CI_TOKEN)
			.timeout(Duration.ofSeconds(10))
			.build(), HttpResponse.BodyHandlers.ofString());
	}

	private JsonNode endpoint(String key) throws Exception {
		for (JsonNode node : json.readTree(api("/api/v1/endpoints").body()).get("endpoints")) {
			if (node.get("key").asString().equals(key)) {
				return node;
			}
		}
		return null;
	}

	@Test
	void aServerKilledMidStreamEndsTheStreamWithAnErrorEventAndFreesTheSlot() throws Exception {
		String model = "chaos-stream";
		List<String> events = new CopyOnWriteArrayList<>();
		CompletableFuture<Void> call = http
			.sendAsync(completion(model, true, 4000, "go").build(), HttpResponse.BodyHandlers.ofInputStream())
			.thenAccept((response) -> {
				try (BufferedReader reader = new BufferedReader(
						new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
					String line;
					while ((line = reader.readLine()) != null) {
						if (line.startsWith("data: ")) {
							events.add(line.substring(6));
						}
					}
				}
				catch (java.io.IOException ex) {
					// ended
				}
			});
		await().atMost(Duration.ofSeconds(10)).until(() -> events.size() > 3);
		assertThat(snapshot(model).used()).isEqualTo(1);

		fleet.servers(model).forEach(SimulatedInferenceServer::dieMidStream);

		call.get(10, java.util.concurrent.TimeUnit.SECONDS);
		assertThat(events.get(events.size() - 2)).contains("\"code\":\"upstream_error\"");
		assertThat(events.get(events.size() - 1)).isEqualTo("[DONE]");
		await().atMost(Duration.ofSeconds(5)).until(() -> snapshot(model).used() == 0);
		assertThat(this.runtime.inFlightByEndpointAndTier().keySet()).noneMatch((key) -> key.contains(model));
	}

	@Test
	void aStreamWhosePodStallsAfterItsHeadersEndsWithAnErrorEventAndFreesSlotAndLease() throws Exception {
		String model = "chaos-stall";
		long stalledBefore = fleet.servers(model).stream().mapToLong(SimulatedInferenceServer::stalled).sum();
		fleet.servers(model).forEach((server) -> server.stallNextRequests(1));
		long started = System.nanoTime();
		HttpResponse<String> response = http.send(completion(model, true, 16, "stall").build(),
				HttpResponse.BodyHandlers.ofString());
		assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
		assertThat(response.statusCode()).isEqualTo(200);
		assertThat(response.body()).contains("\"code\":\"upstream_error\"").endsWith("data: [DONE]\n\n");
		await().atMost(Duration.ofSeconds(5)).until(() -> snapshot(model).used() == 0);
		await().atMost(Duration.ofSeconds(5)).until(() -> this.quota.status("acme").inFlight() == 0);
		assertThat(fleet.servers(model).stream().mapToLong(SimulatedInferenceServer::stalled).sum())
			.isEqualTo(stalledBefore + 1);
	}

	@Test
	void aNonStreamingAnswerThatStallsIsRetriedOnceThen502() throws Exception {
		String model = "chaos-stall";
		fleet.servers(model).forEach((server) -> server.stallNextRequests(1));
		HttpResponse<String> response = http.send(completion(model, false, 16, "stall").build(),
				HttpResponse.BodyHandlers.ofString());
		assertThat(response.statusCode()).as(response.body()).isEqualTo(502);
		assertThat(response.body()).contains("upstream_error");
		await().atMost(Duration.ofSeconds(5)).until(() -> snapshot(model).used() == 0);
		await().atMost(Duration.ofSeconds(5)).until(() -> this.quota.status("acme").inFlight() == 0);
	}

	@Test
	void aRequestWhoseServerRefusesConnectionsSucceedsElsewhereAndTheServerIsEjected() throws Exception {
		String model = "chaos-refused";
		fleet.server(model + "-0").stop();
		for (int i = 0; i < 6; i++) {
			HttpResponse<String> response = complete(model);
			assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
			assertThat(response.headers().firstValue("x-tiergate-endpoint")).contains("inference/" + model + "-1");
		}
		// Three connection errors in a row: ejected, and the scheduler no longer counts
		// its slots.
		JsonNode dead = endpoint("inference/" + model + "-0");
		assertThat(dead.get("state").asString()).isEqualTo("ejected");
		assertThat(dead.get("health").get("lastError").asString()).startsWith("connect_error");
		assertThat(dead.get("health").get("ejectedUntil").isNull()).isFalse();
		assertThat(snapshot(model).acceptingSlots()).isEqualTo(4);
		await().atMost(Duration.ofSeconds(5)).until(() -> snapshot(model).used() == 0);
		// Once ejected, requests go straight to the healthy endpoint.
		assertThat(complete(model).headers().firstValue("x-tiergate-endpoint")).contains("inference/" + model + "-1");
	}

	@Test
	void aRequestDroppedBeforeItsFirstByteIsRetriedOnceAndOnlyOnce() throws Exception {
		String model = "chaos-dropped";
		// Both servers drop their next connection: the first attempt and its one retry
		// both fail.
		fleet.servers(model).forEach((server) -> server.failNextRequestsBeforeFirstByte(1));
		HttpResponse<String> failed = complete(model);
		assertThat(failed.statusCode()).isEqualTo(502);
		assertThat(failed.body()).contains("upstream_unavailable");
		assertThat(snapshot(model).used()).isZero();
		// One server drops its next connection: whichever request meets it succeeds on
		// the other one.
		fleet.server(model + "-0").failNextRequestsBeforeFirstByte(1);
		for (int i = 0; i < 3; i++) {
			HttpResponse<String> response = complete(model);
			assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
		}
		assertThat(endpoint("inference/" + model + "-0").get("health").get("consecutiveFailures").asInt())
			.as("the dropped connection was met, then the server answered again")
			.isLessThanOrEqualTo(2);
		assertThat(endpoint("inference/" + model + "-0").get("health").get("lastError").asString())
			.startsWith("connect_error");
		// The answer reaches the client just before its slot is given back.
		await().atMost(Duration.ofSeconds(5)).until(() -> snapshot(model).used() == 0);
		assertThat(snapshot(model).acceptingSlots()).as("two failures each: nobody ejected").isEqualTo(8);
	}

	@Test
	void aModelWhosePodsAreAllGoneGets503NoCapacityAtOnce() throws Exception {
		String model = "chaos-gone";
		assertThat(complete(model).statusCode()).isEqualTo(200);
		CoreV1Api core = new CoreV1Api(fleet.client());
		for (int i = 0; i < 2; i++) {
			core.deleteNamespacedPod(model + "-" + i, SimulatedGpuFleet.NAMESPACE).execute();
		}
		await().atMost(Duration.ofSeconds(1)).until(() -> snapshot(model).acceptingSlots() == 0);
		long started = System.nanoTime();
		HttpResponse<String> response = complete(model);
		long millis = (System.nanoTime() - started) / 1_000_000;
		assertThat(response.statusCode()).isEqualTo(503);
		assertThat(response.body()).contains("\"code\":\"no_capacity\"");
		assertThat(response.headers().firstValue("Retry-After")).isPresent();
		assertThat(millis).as("answered at once, not after a queue wait").isLessThan(1000);
	}

	@Test
	void aRepeatedPromptPrefixStaysOnOneEndpoint() throws Exception {
		String model = "chaos-affinity";
		java.util.Set<String> endpoints = new java.util.HashSet<>();
		for (int i = 0; i < 5; i++) {
			HttpResponse<String> response = http.send(
					completion(model, false, 4, "You are the billing assistant of ACME. Question " + i).build(),
					HttpResponse.BodyHandlers.ofString());
			assertThat(response.statusCode()).isEqualTo(200);
			endpoints.add(response.headers().firstValue("x-tiergate-endpoint").orElseThrow());
		}
		// The prefix key covers the first 512 characters, so the question number changes
		// it; a session does not.
		java.util.Set<String> sessionEndpoints = new java.util.HashSet<>();
		for (int i = 0; i < 5; i++) {
			HttpResponse<String> response = http.send(
					completion(model, false, 4, "question " + i).header("X-Tiergate-Session", "conversation-7").build(),
					HttpResponse.BodyHandlers.ofString());
			sessionEndpoints.add(response.headers().firstValue("x-tiergate-endpoint").orElseThrow());
		}
		assertThat(sessionEndpoints).hasSize(1);
		JsonNode any = endpoint(sessionEndpoints.iterator().next());
		assertThat(any.get("policy").asString()).isEqualTo("prefix-affinity");
	}

	@Test
	void theEndpointsApiShowsEachEndpointWithScrapedMetricsAndRejectsBadFilters() throws Exception {
		await().atMost(Duration.ofSeconds(5)).until(() -> {
			JsonNode node = endpoint("inference/chaos-api-0");
			return node != null && !node.get("metrics").isNull() && !node.get("metrics").get("stale").asBoolean();
		});
		JsonNode node = endpoint("inference/chaos-api-0");
		assertThat(node.get("model").asString()).isEqualTo("chaos-api");
		assertThat(node.get("node").asString()).isEqualTo("gpu-a");
		assertThat(node.get("slots").asInt()).isEqualTo(4);
		assertThat(node.get("slices").asInt()).isEqualTo(1);
		assertThat(node.get("state").asString()).isEqualTo("healthy");
		assertThat(node.get("policy").asString()).isEqualTo("least-outstanding");
		assertThat(node.get("inFlightByTier").has("P0")).isTrue();
		assertThat(node.get("metrics").get("numRequestsWaiting").asDouble()).isZero();
		assertThat(node.get("metrics").get("ageMs").asLong()).isLessThan(5000);

		JsonNode filtered = json.readTree(api("/api/v1/endpoints?model=chaos-api&state=healthy").body());
		assertThat(filtered.get("endpoints")).hasSize(2);

		HttpResponse<String> badState = api("/api/v1/endpoints?state=sleepy");
		assertThat(badState.statusCode()).isEqualTo(400);
		assertThat(badState.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/problem+json");
		assertThat(json.readTree(badState.body()).get("field").asString()).isEqualTo("state");
		HttpResponse<String> unknownModel = api("/api/v1/endpoints?model=nope");
		assertThat(unknownModel.statusCode()).isEqualTo(404);
		assertThat(json.readTree(unknownModel.body()).get("field").asString()).isEqualTo("model");
	}

	@Test
	void endpointMetricsArePublished() throws Exception {
		assertThat(complete("chaos-api").statusCode()).isEqualTo(200);
		String metrics = http
			.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + this.managementPort + "/actuator/prometheus"))
				.build(), HttpResponse.BodyHandlers.ofString())
			.body();
		assertThat(metrics).contains("tiergate_endpoint_inflight{")
			.contains("tiergate_endpoint_requests_total{")
			.contains("outcome=\"success\"")
			.contains("tiergate_endpoint_ejections_total{")
			.contains("tiergate_endpoint_upstream_first_byte_seconds_bucket{")
			.contains("tiergate_endpoint_upstream_duration_seconds_bucket{");
	}

}
