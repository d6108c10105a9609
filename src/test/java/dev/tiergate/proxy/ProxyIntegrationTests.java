package dev.tiergate.proxy;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import dev.tiergate.EmbeddedDefaults;
import dev.tiergate.dispatch.DispatchRuntime;
import dev.tiergate.dispatch.PoolSnapshot;
import dev.tiergate.tier.Tier;
import dev.tiergate.FleetIntegrationTestSupport;
import dev.tiergate.fleet.SimulatedGpuFleet;
import dev.tiergate.fleet.SimulatedInferenceServer;
import dev.tiergate.routing.Endpoint;
import dev.tiergate.routing.EndpointRegistry;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Tests for the OpenAI-compatible request path, end to end: tenant key, pod discovered by
 * the informer, simulated inference server, JSON and streamed answers.
 */
class ProxyIntegrationTests extends FleetIntegrationTestSupport {

	private static final JsonMapper json = JsonMapper.builder().build();

	@Autowired
	private EndpointRegistry registry;

	@Autowired
	private DispatchRuntime dispatcher;

	private void awaitFleetDiscovered() {
		await().atMost(Duration.ofSeconds(10))
			.until(() -> this.registry.pool(SimulatedGpuFleet.LLAMA).size() == 20
					&& this.registry.pool(SimulatedGpuFleet.QWEN).size() == 4);
	}

	@Test
	void chatCompletionComesBackOpenAiShapedWithUsageAndRoutingHeaders() throws Exception {
		awaitFleetDiscovered();
		HttpResponse<String> response = post("/v1/chat/completions", EmbeddedDefaults.ACME_KEY,
				chat(SimulatedGpuFleet.LLAMA, 12));
		assertThat(response.statusCode()).isEqualTo(200);
		JsonNode body = json.readTree(response.body());
		assertThat(body.get("object").asString()).isEqualTo("chat.completion");
		assertThat(body.get("model").asString()).isEqualTo(SimulatedGpuFleet.LLAMA);
		assertThat(body.at("/choices/0/message/role").asString()).isEqualTo("assistant");
		assertThat(body.at("/usage/completion_tokens").asInt()).isEqualTo(12);
		assertThat(body.at("/usage/total_tokens").asInt()).isEqualTo(body.at("/usage/prompt_tokens").asInt() + 12);
		assertThat(response.headers().firstValue("x-tiergate-tier")).contains("P1");
		assertThat(response.headers().firstValue("x-tiergate-endpoint"))
			.hasValueSatisfying((endpoint) -> assertThat(endpoint).startsWith(SimulatedGpuFleet.NAMESPACE + "/llama-"));
		assertThat(response.headers().firstValue("x-tiergate-queue-ms")).isPresent();
		// the /v1 chain's security headers
		assertThat(response.headers().firstValue("X-Content-Type-Options")).contains("nosniff");
		assertThat(response.headers().firstValue("X-Frame-Options")).contains("DENY");
		assertThat(response.headers().firstValue("Cache-Control"))
			.hasValueSatisfying((cache) -> assertThat(cache).contains("no-store"));
	}

	@Test
	void completionsEndpointReachesTheOtherPool() throws Exception {
		awaitFleetDiscovered();
		HttpResponse<String> response = post("/v1/completions", EmbeddedDefaults.BATCHCO_KEY,
				"{\"model\":\"" + SimulatedGpuFleet.QWEN + "\",\"prompt\":\"Once upon a time\",\"max_tokens\":5}");
		assertThat(response.statusCode()).isEqualTo(200);
		JsonNode body = json.readTree(response.body());
		assertThat(body.get("object").asString()).isEqualTo("text_completion");
		assertThat(body.at("/usage/completion_tokens").asInt()).isEqualTo(5);
		assertThat(response.headers().firstValue("x-tiergate-tier")).contains("P2");
		assertThat(response.headers().firstValue("x-tiergate-endpoint").orElseThrow()).contains("/qwen-");
	}

	@Test
	void headerAndServiceTierChooseTheTier() throws Exception {
		awaitFleetDiscovered();
		assertThat(post("/v1/chat/completions", EmbeddedDefaults.ACME_KEY, chat(SimulatedGpuFleet.LLAMA, 2),
				"X-Tiergate-Priority", "P0")
			.headers()
			.firstValue("x-tiergate-tier")).contains("P0");
		String flex = "{\"model\":\"" + SimulatedGpuFleet.LLAMA
				+ "\",\"service_tier\":\"flex\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":2}";
		HttpResponse<String> response = post("/v1/chat/completions", EmbeddedDefaults.ACME_KEY, flex);
		assertThat(response.statusCode()).isEqualTo(200);
		assertThat(response.headers().firstValue("x-tiergate-tier")).contains("P2");
	}

	@Test
	void streamPassesEventsThroughWithUsageThenDone() throws Exception {
		awaitFleetDiscovered();
		String body = "{\"model\":\"" + SimulatedGpuFleet.LLAMA + "\",\"stream\":true,"
				+ "\"stream_options\":{\"include_usage\":true},\"max_tokens\":6,"
				+ "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}";
		HttpResponse<String> response = post("/v1/chat/completions", EmbeddedDefaults.ACME_KEY, body);
		assertThat(response.statusCode()).isEqualTo(200);
		assertThat(response.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/event-stream");
		List<String> events = response.body().lines().filter((l) -> l.startsWith("data: ")).toList();
		assertThat(events).last().isEqualTo("data: [DONE]");
		JsonNode usage = json.readTree(events.get(events.size() - 2).substring(6));
		assertThat(usage.at("/usage/completion_tokens").asInt()).isEqualTo(6);
		assertThat(events.subList(0, events.size() - 2)).hasSize(6)
			.allSatisfy((e) -> assertThat(json.readTree(e.substring(6)).get("object").asString())
				.isEqualTo("chat.completion.chunk"))
			.allSatisfy((e) -> assertThat(json.readTree(e.substring(6)).get("service_tier").asString())
				.as("acme's default tier P1")
				.isEqualTo("default"));
		assertThat(usage.get("service_tier").asString()).isEqualTo("default");
	}

	@Test
	void firstEventReachesTheClientWhileTheUpstreamIsStillGenerating() throws Exception {
		awaitFleetDiscovered();
		try (StreamHandle stream = openStream(EmbeddedDefaults.ACME_KEY, 400)) {
			String first = stream.nextEvent();
			assertThat(first).startsWith("data: {");
			assertThat(stream.server().running()).as("upstream still generating").isPositive();
		}
	}

	@Test
	void clientDisconnectAbortsTheUpstreamCallAndFreesTheSlot() throws Exception {
		awaitFleetDiscovered();
		SimulatedInferenceServer server;
		Endpoint endpoint;
		long abortedBefore;
		try (StreamHandle stream = openStream(EmbeddedDefaults.ACME_KEY, 2000)) {
			stream.nextEvent();
			server = stream.server();
			abortedBefore = server.aborted();
			endpoint = this.registry.endpoints()
				.stream()
				.filter((e) -> e.key().equals(stream.endpointKey()))
				.findFirst()
				.orElseThrow();
			assertThat(endpoint.inFlight()).isPositive();
		}
		await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
			assertThat(server.aborted()).isGreaterThan(abortedBefore);
			assertThat(endpoint.inFlight()).isZero();
		});
	}

	@Test
	void clientsThatLeaveWhileQueuedOrWhileTheirAnswerIsComputedFreeTheirPlaceAndSlotAtOnce() throws Exception {
		awaitFleetDiscovered();
		List<SimulatedInferenceServer> servers = fleet().servers(SimulatedGpuFleet.QWEN);
		long stalledBefore = servers.stream().mapToLong(SimulatedInferenceServer::stalled).sum();
		int slots = qwen().acceptingSlots();
		List<Socket> running = new ArrayList<>();
		try {
			// Every qwen slot runs a non-streaming request whose answer never comes (a
			// hung
			// engine): their clients wait for a JSON answer that is still being computed.
			servers.forEach((server) -> server.stallNextRequests(slots / servers.size()));
			for (int i = 0; i < slots; i++) {
				running.add(rawPost(EmbeddedDefaults.ACME_KEY, "P2", chat(SimulatedGpuFleet.QWEN, 50)));
			}
			await().atMost(Duration.ofSeconds(10)).until(() -> qwen().used() == slots && qwen().free() == 0);
			long admitted = qwen().tiers().get(Tier.P2).admitted();
			// One more waits in line (P2 may wait ten minutes), and its client leaves.
			try (Socket queued = rawPost(EmbeddedDefaults.BATCHCO_KEY, "P2", chat(SimulatedGpuFleet.QWEN, 50))) {
				await().atMost(Duration.ofSeconds(5)).until(() -> qwen().queued() == 1);
			}
			await().atMost(Duration.ofSeconds(3)).until(() -> qwen().queued() == 0);
			assertThat(qwen().tiers().get(Tier.P2).admitted()).as("never dispatched").isEqualTo(admitted);
			assertThat(qwen().used()).isEqualTo(slots);
			// The waiting clients leave: their upstream calls are aborted, their slots
			// freed
			// (without the probe they were held until the upstream idle timeout, a
			// minute).
			for (Socket socket : running) {
				socket.close();
			}
			await().atMost(Duration.ofSeconds(4)).until(() -> qwen().used() == 0);
			assertThat(servers.stream().mapToLong(SimulatedInferenceServer::stalled).sum() - stalledBefore)
				.isEqualTo(slots);
			assertThat(this.registry.pool(SimulatedGpuFleet.QWEN)).allSatisfy((e) -> assertThat(e.inFlight()).isZero());
		}
		finally {
			servers.forEach((server) -> server.stallNextRequests(0));
			for (Socket socket : running) {
				socket.close();
			}
		}
	}

	private PoolSnapshot qwen() {
		return this.dispatcher.snapshots()
			.stream()
			.filter((pool) -> pool.pool().equals(SimulatedGpuFleet.QWEN))
			.findFirst()
			.orElseThrow();
	}

	@Test
	void listsTheFleetsModels() throws Exception {
		awaitFleetDiscovered();
		HttpResponse<String> response = get("/v1/models", "Bearer " + EmbeddedDefaults.ACME_KEY);
		assertThat(response.statusCode()).isEqualTo(200);
		JsonNode body = json.readTree(response.body());
		assertThat(body.get("object").asString()).isEqualTo("list");
		List<String> ids = new ArrayList<>();
		body.get("data").forEach((m) -> ids.add(m.get("id").asString()));
		assertThat(ids).containsExactly(SimulatedGpuFleet.LLAMA, SimulatedGpuFleet.QWEN);
		assertThat(get("/v1/models/" + SimulatedGpuFleet.QWEN, "Bearer " + EmbeddedDefaults.ACME_KEY).statusCode())
			.isEqualTo(200);
		assertThat(get("/v1/models/nope", "Bearer " + EmbeddedDefaults.ACME_KEY).statusCode()).isEqualTo(404);
	}

	private StreamHandle openStream(String key, int maxTokens) throws Exception {
		String body = "{\"model\":\"" + SimulatedGpuFleet.LLAMA + "\",\"stream\":true,\"max_tokens\":" + maxTokens
				+ ",\"messages\":[{\"role\":\"user\",\"content\":\"Tell me a long story\"}]}";
		HttpRequest request = HttpRequest.newBuilder(uri("/v1/chat/completions"))
			.header("Authorization", "Bearer " + key)
			.header("Content-Type", "application/json")
			.POST(HttpRequest.BodyPublishers.ofString(body))
			.build();
		HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
		assertThat(response.statusCode()).isEqualTo(200);
		String endpointKey = response.headers().firstValue("x-tiergate-endpoint").orElseThrow();
		return new StreamHandle(response.body(), endpointKey,
				fleet().server(endpointKey.substring(endpointKey.indexOf('/') + 1)));
	}

	private record StreamHandle(InputStream in, String endpointKey,
			SimulatedInferenceServer server) implements AutoCloseable {

		String nextEvent() throws Exception {
			BufferedReader reader = new BufferedReader(new InputStreamReader(this.in, StandardCharsets.UTF_8), 1);
			String line;
			while ((line = reader.readLine()) != null) {
				if (line.startsWith("data: ")) {
					return line;
				}
			}
			return null;
		}

		@Override
		public void close() throws Exception {
			this.in.close();
		}

	}

}
