package dev.tiergate.proxy;

import java.net.http.HttpResponse;
import java.time.Duration;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
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
 * Tests for {@code POST /v1/embeddings} on the request path: the same tiers, quota,
 * dispatch and OpenAI errors as completions, served by the simulated fleet with vectors
 * of the model's hidden size.
 */
class EmbeddingsIntegrationTests extends FleetIntegrationTestSupport {

	private static final JsonMapper json = JsonMapper.builder().build();

	@Autowired
	private EndpointRegistry registry;

	@BeforeEach
	void fleetIsKnown() {
		await().atMost(Duration.ofSeconds(10))
			.until(() -> !this.registry.pool(SimulatedGpuFleet.LLAMA).isEmpty()
					&& !this.registry.pool(SimulatedGpuFleet.QWEN).isEmpty());
	}

	@Test
	void embedsEachInputWithAVectorOfTheModelsSize() throws Exception {
		HttpResponse<String> response = post("/v1/embeddings", EmbeddedDefaults.ACME_KEY, """
				{"model":"%s","input":["GPUs are shared","by tiers"]}""".formatted(SimulatedGpuFleet.LLAMA),
				"X-Tiergate-Priority", "P2");
		assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
		assertThat(response.headers().firstValue("x-tiergate-tier")).hasValue("P2");
		JsonNode body = json.readTree(response.body());
		assertThat(body.get("object").asString()).isEqualTo("list");
		assertThat(body.get("data")).hasSize(2);
		JsonNode first = body.get("data").get(0);
		assertThat(first.get("object").asString()).isEqualTo("embedding");
		assertThat(first.get("embedding")).hasSize(4096);
		double norm = 0;
		for (JsonNode value : first.get("embedding")) {
			norm += value.asDouble() * value.asDouble();
		}
		assertThat(norm).isCloseTo(1.0, org.assertj.core.data.Offset.offset(0.01));
		assertThat(body.get("usage").get("prompt_tokens").asInt()).isPositive();
		assertThat(body.get("service_tier").asString()).isEqualTo("flex");

		JsonNode qwen = json.readTree(post("/v1/embeddings", EmbeddedDefaults.ACME_KEY, """
				{"model":"%s","input":"one"}""".formatted(SimulatedGpuFleet.QWEN)).body());
		assertThat(qwen.get("data").get(0).get("embedding")).hasSize(5120);
	}

	@Test
	void badEmbeddingsRequestsGetOpenAiErrors() throws Exception {
		HttpResponse<String> missing = post("/v1/embeddings", EmbeddedDefaults.ACME_KEY,
				"{\"model\":\"" + SimulatedGpuFleet.LLAMA + "\"}");
		assertThat(missing.statusCode()).isEqualTo(400);
		assertThat(json.readTree(missing.body()).get("error").get("code").asString()).isEqualTo("missing_input");
		HttpResponse<String> empty = post("/v1/embeddings", EmbeddedDefaults.ACME_KEY,
				"{\"model\":\"" + SimulatedGpuFleet.LLAMA + "\",\"input\":[]}");
		assertThat(json.readTree(empty.body()).get("error").get("code").asString()).isEqualTo("invalid_input");
		HttpResponse<String> streamed = post("/v1/embeddings", EmbeddedDefaults.ACME_KEY,
				"{\"model\":\"" + SimulatedGpuFleet.LLAMA + "\",\"input\":\"x\",\"stream\":true}");
		assertThat(json.readTree(streamed.body()).get("error").get("code").asString()).isEqualTo("invalid_stream");
		HttpResponse<String> unknown = post("/v1/embeddings", EmbeddedDefaults.ACME_KEY,
				"{\"model\":\"nope\",\"input\":\"x\"}");
		assertThat(unknown.statusCode()).isEqualTo(404);
		assertThat(post("/v1/embeddings", null, "{}").statusCode()).isEqualTo(401);
	}

}
