package dev.tiergate.proxy;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import dev.tiergate.EmbeddedDefaults;
import dev.tiergate.FleetIntegrationTestSupport;
import dev.tiergate.fleet.SimulatedGpuFleet;
import jakarta.servlet.ServletContext;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for the errors of {@code /v1/**}: every bad input gets its 4xx, OpenAI-shaped,
 * with a message that says what is wrong.
 */
class ProxyErrorsIntegrationTests extends FleetIntegrationTestSupport {

	@Autowired
	private ServletContext servletContext;

	private static final JsonMapper json = JsonMapper.builder().build();

	private static void assertOpenAiError(HttpResponse<String> response, int status, String code) {
		assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
		assertThat(response.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/json");
		JsonNode error = json.readTree(response.body()).get("error");
		assertThat(error).as(response.body()).isNotNull();
		assertThat(error.get("message").asString()).isNotBlank().doesNotContain("Exception").doesNotContain("\tat ");
		assertThat(error.get("type").asString()).isNotBlank();
		assertThat(error.get("code").asString()).isEqualTo(code);
	}

	@Test
	void missingKeyIs401() throws Exception {
		HttpResponse<String> refused = post("/v1/chat/completions", null, chat(SimulatedGpuFleet.LLAMA, 1));
		assertOpenAiError(refused, 401, "missing_api_key");
		assertThat(refused.headers().firstValue("X-Content-Type-Options")).contains("nosniff");
		assertOpenAiError(get("/v1/models", null), 401, "missing_api_key");
		assertOpenAiError(get("/v1/models", "Basic YWRtaW46YWRtaW4="), 401, "missing_api_key");
		// the key filter is the chain's one gate: no path under /v1 gets past it without
		// a key
		assertOpenAiError(get("/v1/embeddingz", null), 401, "missing_api_key");
		assertOpenAiError(post("/v1/batches/x/cancel", null, "{}"), 401, "missing_api_key");
		assertOpenAiError(post("/v1/embeddings", "tg-wrong", "{}"), 401, "invalid_api_key");
	}

	@Test
	void completionsTakeTheirLaneAndAnotherSpellingTakesTheWholeChainStillBehindTheKey() throws Exception {
		// the lane is in the container, on the three paths, before the other filters
		assertThat(this.servletContext.getFilterRegistration("completionsLane").getUrlPatternMappings())
			.containsExactlyInAnyOrderElementsOf(Completions.PATHS);
		// an encoded letter maps to the same servlet but not to the lane: the full chain,
		// whose key filter refuses it, and serves it with a key
		String encoded = "/v1/chat/%63ompletions";
		assertOpenAiError(post(encoded, null, chat(SimulatedGpuFleet.LLAMA, 1)), 401, "missing_api_key");
		assertOpenAiError(post(encoded, "tg-wrong", chat(SimulatedGpuFleet.LLAMA, 1)), 401, "invalid_api_key");
		HttpResponse<String> served = post(encoded, EmbeddedDefaults.ACME_KEY, chat(SimulatedGpuFleet.LLAMA, 1));
		assertThat(served.statusCode()).as(served.body()).isEqualTo(200);
		assertThat(served.headers().firstValue("X-Content-Type-Options")).contains("nosniff");
		// a doubled slash is the firewall's to refuse, as before
		assertThat(
				post("/v1//chat/completions", EmbeddedDefaults.ACME_KEY, chat(SimulatedGpuFleet.LLAMA, 1)).statusCode())
			.isEqualTo(400);
	}

	@Test
	void wrongKeyIs401() throws Exception {
		assertOpenAiError(post("/v1/chat/completions", "tg-wrong", chat(SimulatedGpuFleet.LLAMA, 1)), 401,
				"invalid_api_key");
	}

	@Test
	void operatorTokenIsNoTenantKey() throws Exception {
		assertOpenAiError(post("/v1/chat/completions", EmbeddedDefaults.CI_TOKEN, chat(SimulatedGpuFleet.LLAMA, 1)),
				401, "invalid_api_key");
	}

	@Test
	void malformedJsonIs400() throws Exception {
		assertOpenAiError(post("/v1/chat/completions", EmbeddedDefaults.ACME_KEY, "{\"model\": "), 400, "invalid_json");
		assertOpenAiError(post("/v1/chat/completions", EmbeddedDefaults.ACME_KEY, "[1,2]"), 400, "invalid_json");
		assertOpenAiError(post("/v1/chat/completions", EmbeddedDefaults.ACME_KEY, ""), 400, "invalid_json");
	}

	@Test
	void missingOrInvalidModelIs400() throws Exception {
		assertOpenAiError(post("/v1/chat/completions", EmbeddedDefaults.ACME_KEY, "{\"messages\":[]}"), 400,
				"missing_model");
		assertOpenAiError(post("/v1/completions", EmbeddedDefaults.ACME_KEY, "{\"model\":42}"), 400, "invalid_model");
	}

	@Test
	void invalidStreamFlagOrTierIs400() throws Exception {
		assertOpenAiError(post("/v1/chat/completions", EmbeddedDefaults.ACME_KEY,
				"{\"model\":\"" + SimulatedGpuFleet.LLAMA + "\",\"stream\":\"yes\"}"), 400, "invalid_stream");
		assertOpenAiError(post("/v1/chat/completions", EmbeddedDefaults.ACME_KEY, chat(SimulatedGpuFleet.LLAMA, 1),
				"X-Tiergate-Priority", "P9"), 400, "invalid_priority");
		assertOpenAiError(
				post("/v1/chat/completions", EmbeddedDefaults.ACME_KEY,
						"{\"model\":\"" + SimulatedGpuFleet.LLAMA + "\",\"service_tier\":\"ultra\"}"),
				400, "invalid_service_tier");
	}

	@Test
	void aTierTheTenantMayNotUseIs403() throws Exception {
		assertOpenAiError(post("/v1/chat/completions", EmbeddedDefaults.BATCHCO_KEY, chat(SimulatedGpuFleet.LLAMA, 1),
				"X-Tiergate-Priority", "P0"), 403, "tier_not_allowed");
	}

	@Test
	void hugeMaxTokensIs400NamingTheFieldAndNeverAQuotaOutage() throws Exception {
		for (String field : new String[] { "max_tokens", "max_completion_tokens" }) {
			String body = "{\"model\":\"" + SimulatedGpuFleet.LLAMA + "\",\"prompt\":\"hi\",\"" + field
					+ "\":9000000000000000000}";
			HttpResponse<String> response = post("/v1/completions", EmbeddedDefaults.ACME_KEY, body);
			assertOpenAiError(response, 400, "invalid_value");
			assertThat(json.readTree(response.body()).get("error").get("param").asString()).isEqualTo(field);
		}
		HttpResponse<String> ok = post("/v1/chat/completions", EmbeddedDefaults.ACME_KEY,
				chat(SimulatedGpuFleet.LLAMA, 1));
		assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
	}

	@Test
	void maxTokensBeyondTheEnginesContextLengthIs400() throws Exception {
		// The simulated engines report max_model_len 8192 from GET /v1/models.
		org.awaitility.Awaitility.await()
			.atMost(java.time.Duration.ofSeconds(10))
			.untilAsserted(() -> assertOpenAiError(
					post("/v1/chat/completions", EmbeddedDefaults.ACME_KEY, chat(SimulatedGpuFleet.LLAMA, 100_000)),
					400, "invalid_value"));
		HttpResponse<String> response = post("/v1/chat/completions", EmbeddedDefaults.ACME_KEY,
				chat(SimulatedGpuFleet.LLAMA, 100_000));
		assertThat(response.body()).contains("max_tokens").contains("8192");
	}

	@Test
	void negativeFractionalOrTextualMaxTokensIs400() throws Exception {
		for (String value : new String[] { "-1", "0", "1.5", "\"many\"", "true" }) {
			String body = "{\"model\":\"" + SimulatedGpuFleet.LLAMA + "\",\"prompt\":\"hi\",\"max_tokens\":" + value
					+ "}";
			assertOpenAiError(post("/v1/completions", EmbeddedDefaults.ACME_KEY, body), 400, "invalid_value");
		}
	}

	@Test
	void unknownModelIs404() throws Exception {
		HttpResponse<String> response = post("/v1/chat/completions", EmbeddedDefaults.ACME_KEY, chat("gpt-17", 1));
		assertOpenAiError(response, 404, "model_not_found");
		assertThat(response.body()).contains("gpt-17");
	}

	@Test
	void bodyOverTheLimitIs413() throws Exception {
		String huge = "{\"model\":\"" + SimulatedGpuFleet.LLAMA + "\",\"prompt\":\"" + "x".repeat(1_100_000) + "\"}";
		assertOpenAiError(post("/v1/completions", EmbeddedDefaults.ACME_KEY, huge), 413, "request_too_large");
	}

	@Test
	void bodyOverTheLimitWithoutContentLengthIs413() throws Exception {
		byte[] huge = ("{\"prompt\":\"" + "y".repeat(1_200_000) + "\"}").getBytes();
		HttpRequest request = HttpRequest.newBuilder(uri("/v1/completions"))
			.header("Authorization", "Bearer " + EmbeddedDefaults.ACME_KEY)
			.header("Content-Type", "application/json")
			.POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(huge)))
			.build();
		assertOpenAiError(http.send(request, HttpResponse.BodyHandlers.ofString()), 413, "request_too_large");
	}

	@Test
	void aBodyShorterThanItsContentLengthIs400OpenAiShaped() throws Exception {
		try (Socket socket = new Socket("127.0.0.1", this.port)) {
			socket.setSoTimeout(10_000);
			OutputStream out = socket.getOutputStream();
			out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
					+ EmbeddedDefaults.ACME_KEY + "\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
					+ "{\"model\":\"llama")
				.getBytes(StandardCharsets.US_ASCII));
			out.flush();
			socket.shutdownOutput();
			String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
			assertThat(answer).startsWith("HTTP/1.1 400");
			String body = answer.substring(answer.indexOf("{"), answer.lastIndexOf("}") + 1);
			JsonNode error = json.readTree(body).get("error");
			assertThat(error).as(answer).isNotNull();
			assertThat(error.get("code").asString()).isEqualTo("invalid_request");
			assertThat(error.get("type").asString()).isEqualTo("invalid_request_error");
			assertThat(error.get("message").asString()).contains("Content-Length");
		}
	}

	@Test
	void trailingHeadersLargerThanTheLimitAre400AndSmallOnesAreServed() throws Exception {
		String small = chunkedWithTrailer("x".repeat(500));
		assertThat(small).as(small).startsWith("HTTP/1.1 200");
		String large = chunkedWithTrailer("x".repeat(2_000));
		assertThat(large).startsWith("HTTP/1.1 400");
		JsonNode error = json.readTree(large.substring(large.indexOf("{"), large.lastIndexOf("}") + 1)).get("error");
		assertThat(error.get("code").asString()).isEqualTo("invalid_request");
		assertThat(error.get("message").asString()).contains("tiergate.server.max-request-trailer-size");
	}

	/** A chunked chat completion whose body ends with one trailing header. */
	private String chunkedWithTrailer(String value) throws IOException {
		String body = "{\"model\":\"" + SimulatedGpuFleet.LLAMA
				+ "\",\"max_tokens\":2,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
		try (Socket socket = new Socket("127.0.0.1", this.port)) {
			socket.setSoTimeout(20_000);
			socket.getOutputStream()
				.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
						+ EmbeddedDefaults.ACME_KEY + "\r\nContent-Type: application/json\r\n"
						+ "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + Integer.toHexString(body.length())
						+ "\r\n" + body + "\r\n0\r\nX-Note: " + value + "\r\n\r\n")
					.getBytes(StandardCharsets.US_ASCII));
			return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
		}
	}

	@Test
	void unknownPathAndWrongMethodAreOpenAiShapedToo() throws Exception {
		assertOpenAiError(get("/v1/embeddingz", "Bearer " + EmbeddedDefaults.ACME_KEY), 404, "not_found");
		assertOpenAiError(get("/v1/chat/completions", "Bearer " + EmbeddedDefaults.ACME_KEY), 405,
				"method_not_allowed");
	}

}
