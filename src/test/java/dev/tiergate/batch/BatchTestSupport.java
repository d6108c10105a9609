package dev.tiergate.batch;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.BeforeEach;
import org.springframework.beans.factory.annotation.Autowired;

import dev.tiergate.EmbeddedDefaults;
import dev.tiergate.FleetIntegrationTestSupport;
import dev.tiergate.fleet.SimulatedGpuFleet;
import dev.tiergate.routing.EndpointRegistry;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Base of the batch tests on the whole application: upload files, create batches, wait
 * for their status, read their files, make tenants with their own limits.
 */
abstract class BatchTestSupport extends FleetIntegrationTestSupport {

	protected static final JsonMapper json = JsonMapper.builder().build();

	protected static final String LLAMA = SimulatedGpuFleet.LLAMA;

	@Autowired
	private EndpointRegistry registry;

	@BeforeEach
	void fleetIsKnown() {
		await().atMost(Duration.ofSeconds(10)).until(() -> !this.registry.pool(LLAMA).isEmpty());
	}

	protected String uploadFile(String key, byte[] content) throws Exception {
		HttpResponse<String> created = http.send(Uploads.upload(uri("/v1/files"), key, "batch", "in.jsonl", content),
				HttpResponse.BodyHandlers.ofString());
		assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
		return json.readTree(created.body()).get("id").asString();
	}

	protected HttpResponse<String> createBatch(String key, String fileId, String endpoint) throws Exception {
		return post("/v1/batches", key, """
				{"input_file_id":"%s","endpoint":"%s","completion_window":"24h","metadata":{"job":"nightly"}}"""
			.formatted(fileId, endpoint));
	}

	protected static JsonNode error(HttpResponse<String> response, int status, String code) {
		assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
		JsonNode error = json.readTree(response.body()).get("error");
		assertThat(error).as(response.body()).isNotNull();
		assertThat(error.get("code").asString()).isEqualTo(code);
		return error;
	}

	protected String tenantWithKey(String limits, String extra) throws Exception {
		return newTenant(limits, extra).key();
	}

	/**
	 * A tenant of its own and one of its keys.
	 *
	 * @param id the tenant
	 * @param key its key
	 */
	protected record TenantKey(String id, String key) {
	}

	protected TenantKey newTenant(String limits, String extra) throws Exception {
		String id = "bt-" + UUID.randomUUID().toString().substring(0, 8);
		String ci = "Bearer " + EmbeddedDefaults.CI_TOKEN;
		HttpResponse<String> created = send("POST", "/api/v1/tenants", ci, """
				{"id":"%s","allowedTiers":["P1","P2"],"limits":%s%s}""".formatted(id, limits, extra));
		assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
		return new TenantKey(id,
				json.readTree(send("POST", "/api/v1/tenants/" + id + "/keys", ci, null).body()).get("key").asString());
	}

	protected JsonNode awaitStatus(String key, String id, String... statuses) {
		JsonNode[] last = new JsonNode[1];
		await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
			last[0] = json.readTree(get("/v1/batches/" + id, "Bearer " + key).body());
			assertThat(last[0].get("status").asString()).isIn((Object[]) statuses);
		});
		return last[0];
	}

	protected String content(String key, String fileId) throws Exception {
		HttpResponse<String> read = http.send(HttpRequest.newBuilder(uri("/v1/files/" + fileId + "/content"))
			.header("Authorization", "Bearer " + key)
			.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
		assertThat(read.statusCode()).isEqualTo(200);
		return read.body();
	}

	protected static Map<String, JsonNode> byCustomId(String jsonl) {
		Map<String, JsonNode> lines = new HashMap<>();
		for (String line : jsonl.split("\n")) {
			if (!line.isBlank()) {
				JsonNode node = json.readTree(line);
				assertThat(lines.put(node.get("custom_id").asString(), node)).as("duplicate " + line).isNull();
			}
		}
		return lines;
	}

}
