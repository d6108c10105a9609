package dev.tiergate.batch;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import dev.tiergate.EmbeddedDefaults;
import dev.tiergate.dispatch.DispatchRuntime;
import dev.tiergate.dispatch.PoolSnapshot;
import dev.tiergate.fleet.SimulatedGpuFleet;
import dev.tiergate.fleet.SimulatedHostedApi;
import dev.tiergate.fleet.SimulatedInferenceServer;
import dev.tiergate.routing.EndpointRegistry;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Batch items and spill: with the batch tier (P2) set to spill when saturated, only the
 * items of a tenant that opted in ({@code batchSpill}) go to the hosted API while the
 * qwen pool's every slot is held; another tenant's items wait for the fleet. Redis
 * database 11, so that only this context's workers run its batches.
 */
class BatchSpillIntegrationTests extends BatchTestSupport {

	private static final String KEY = "sk-batch-spill-key-7";

	private static final SimulatedHostedApi hosted = start();

	private static final String QWEN = SimulatedGpuFleet.QWEN;

	@Autowired
	private EndpointRegistry registry;

	@Autowired
	private DispatchRuntime dispatcher;

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
		String upstream = "tiergate.spill.upstreams.[" + QWEN + "].";
		registry.add(upstream + "base-uri", () -> hosted.baseUri().toString());
		registry.add(upstream + "model", () -> "hosted-qwen");
		registry.add(upstream + "api-key", () -> KEY);
		registry.add(upstream + "timeout", () -> "2s");
		registry.add("tiergate.spill.monthly-cap", () -> "1000");
		registry.add("tiergate.spill.tiers.P2.spill", () -> "when-saturated");
		registry.add("tiergate.spill.tiers.P2.spill-after", () -> "200ms");
		// A database of its own: the batch workers of other cached test contexts (on the
		// shared database, without this spill policy) would otherwise take its items.
		registry.add("spring.data.redis.database", () -> "11");
	}

	@AfterAll
	static void stop() {
		hosted.close();
	}

	@Test
	void onlyTheItemsOfATenantThatOptedInSpillWhileTheFleetIsSaturated() throws Exception {
		await().atMost(Duration.ofSeconds(10)).until(() -> this.registry.pool(QWEN).size() == 4);
		TenantKey opted = newTenant("{}", ",\"batchSpill\":true");
		TenantKey plain = newTenant("{}", "");
		List<SimulatedInferenceServer> servers = fleet().servers(QWEN);
		int slots = qwen().acceptingSlots();
		List<Socket> holders = new ArrayList<>();
		String plainBatch;
		try {
			servers.forEach((server) -> server.stallNextRequests(slots / servers.size()));
			for (int i = 0; i < slots; i++) {
				holders.add(rawPost(EmbeddedDefaults.ACME_KEY, "P0", """
						{"model":"%s","messages":[{"role":"user","content":"hold"}],"max_tokens":50}"""
					.formatted(QWEN)));
			}
			await().atMost(Duration.ofSeconds(10)).until(() -> qwen().used() == slots && qwen().free() == 0);
			int hostedBefore = hosted.received().size();

			plainBatch = json
				.readTree(createBatch(plain.key(), uploadFile(plain.key(), Uploads.chatFile(3, QWEN, 4)),
						"/v1/chat/completions")
					.body())
				.get("id")
				.asString();
			String optedBatch = json
				.readTree(createBatch(opted.key(), uploadFile(opted.key(), Uploads.chatFile(3, QWEN, 4)),
						"/v1/chat/completions")
					.body())
				.get("id")
				.asString();

			JsonNode done = awaitStatus(opted.key(), optedBatch, "completed");
			assertThat(done.get("request_counts").get("completed").asInt()).isEqualTo(3);
			Map<String, JsonNode> output = byCustomId(content(opted.key(), done.get("output_file_id").asString()));
			assertThat(output).hasSize(3);
			output.values()
				.forEach((line) -> assertThat(line.get("response").get("status_code").asInt()).isEqualTo(200));
			List<JsonNode> received = hosted.received();
			assertThat(received.size() - hostedBefore).as("the opted-in tenant's 3 items, no other").isEqualTo(3);
			received.subList(hostedBefore, received.size())
				.forEach((body) -> assertThat(body.get("model").asString()).isEqualTo("hosted-qwen"));
			// The tenant's usage says which of its requests a hosted upstream served.
			await().atMost(Duration.ofSeconds(5))
				.untilAsserted(() -> assertThat(json
					.readTree(get("/api/v1/tenants/" + opted.id() + "/usage", "Bearer " + EmbeddedDefaults.CI_TOKEN)
						.body())
					.path("totals")
					.path("hosted_requests")
					.asLong()).isEqualTo(3));

			JsonNode waiting = json.readTree(get("/v1/batches/" + plainBatch, "Bearer " + plain.key()).body());
			assertThat(waiting.get("status").asString()).isEqualTo("in_progress");
			assertThat(waiting.get("request_counts").get("completed").asInt())
				.as("the other tenant's items wait for the fleet")
				.isZero();
		}
		finally {
			servers.forEach((server) -> server.stallNextRequests(0));
			for (Socket socket : holders) {
				socket.close();
			}
		}
		JsonNode plainDone = awaitStatus(plain.key(), plainBatch, "completed");
		assertThat(plainDone.get("request_counts").get("completed").asInt()).isEqualTo(3);
	}

	private PoolSnapshot qwen() {
		return this.dispatcher.snapshots()
			.stream()
			.filter((pool) -> pool.pool().equals(QWEN))
			.findFirst()
			.orElseThrow();
	}

}
