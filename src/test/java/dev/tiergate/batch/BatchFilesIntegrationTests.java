package dev.tiergate.batch;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;

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
 * Tests for {@link FilesApiController}: upload, list, read back and delete batch input
 * files; bad files are refused with their line numbers and stored not at all; another
 * tenant's file does not exist.
 */
class BatchFilesIntegrationTests extends FleetIntegrationTestSupport {

	private static final JsonMapper json = JsonMapper.builder().build();

	private static final String LLAMA = SimulatedGpuFleet.LLAMA;

	@Autowired
	private EndpointRegistry registry;

	@BeforeEach
	void fleetIsKnown() {
		await().atMost(Duration.ofSeconds(10)).until(() -> !this.registry.pool(LLAMA).isEmpty());
	}

	private HttpResponse<String> upload(String key, String purpose, byte[] content) throws Exception {
		return http.send(Uploads.upload(uri("/v1/files"), key, purpose, "input.jsonl", content),
				HttpResponse.BodyHandlers.ofString());
	}

	private static JsonNode error(HttpResponse<String> response, int status, String code) {
		assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
		JsonNode error = json.readTree(response.body()).get("error");
		assertThat(error).as(response.body()).isNotNull();
		assertThat(error.get("code").asString()).isEqualTo(code);
		assertThat(error.get("message").asString()).doesNotContain("Exception");
		return error;
	}

	@Test
	void uploadsListsReadsBackAndDeletesAFile() throws Exception {
		byte[] content = Uploads.chatFile(3, LLAMA, 4);
		HttpResponse<String> created = upload(EmbeddedDefaults.ACME_KEY, "batch", content);
		assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
		JsonNode file = json.readTree(created.body());
		String id = file.get("id").asString();
		assertThat(id).startsWith("file-");
		assertThat(file.get("object").asString()).isEqualTo("file");
		assertThat(file.get("bytes").asLong()).isEqualTo(content.length);
		assertThat(file.get("purpose").asString()).isEqualTo("batch");
		assertThat(file.get("filename").asString()).isEqualTo("input.jsonl");

		JsonNode listed = json.readTree(get("/v1/files", "Bearer " + EmbeddedDefaults.ACME_KEY).body());
		assertThat(listed.get("object").asString()).isEqualTo("list");
		assertThat(listed.get("data").valueStream().map((f) -> f.get("id").asString())).contains(id);
		assertThat(json.readTree(get("/v1/files/" + id, "Bearer " + EmbeddedDefaults.ACME_KEY).body())
			.get("bytes")
			.asLong()).isEqualTo(content.length);
		HttpResponse<byte[]> read = http.send(java.net.http.HttpRequest.newBuilder(uri("/v1/files/" + id + "/content"))
			.header("Authorization", "Bearer " + EmbeddedDefaults.ACME_KEY)
			.build(), HttpResponse.BodyHandlers.ofByteArray());
		assertThat(read.statusCode()).isEqualTo(200);
		assertThat(read.body()).isEqualTo(content);

		HttpResponse<String> deleted = send("DELETE", "/v1/files/" + id, "Bearer " + EmbeddedDefaults.ACME_KEY, null);
		assertThat(json.readTree(deleted.body()).get("deleted").asBoolean()).isTrue();
		error(get("/v1/files/" + id, "Bearer " + EmbeddedDefaults.ACME_KEY), 404, "not_found");
	}

	@Test
	void aFileLargerThanOneChunkIsStoredInChunksAndReadBackWhole() throws Exception {
		// About 2.5MB: three chunks of at most 1MB.
		byte[] content = Uploads.chatFile(14_000, LLAMA, 4);
		assertThat(content.length).isGreaterThan(2 * 1024 * 1024);
		HttpResponse<String> created = upload(EmbeddedDefaults.ACME_KEY, "batch", content);
		assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
		String id = json.readTree(created.body()).get("id").asString();
		HttpResponse<byte[]> read = http.send(java.net.http.HttpRequest.newBuilder(uri("/v1/files/" + id + "/content"))
			.header("Authorization", "Bearer " + EmbeddedDefaults.ACME_KEY)
			.build(), HttpResponse.BodyHandlers.ofByteArray());
		assertThat(Arrays.equals(read.body(), content)).isTrue();
		send("DELETE", "/v1/files/" + id, "Bearer " + EmbeddedDefaults.ACME_KEY, null);
	}

	@Test
	void badLinesAreRefusedWithTheirNumbersAndReasons() throws Exception {
		String file = String.join("\n", Uploads.chatLine("a", LLAMA, 4), "{not json", Uploads.chatLine("a", LLAMA, 4),
				Uploads.chatLine("b", LLAMA, 4).replace("/v1/chat/completions", "/v1/images"),
				Uploads.chatLine("c", "no-such-model", 4), "[1,2]", Uploads.chatLine("d", LLAMA, 4)) + "\n";
		JsonNode error = error(upload(EmbeddedDefaults.ACME_KEY, "batch", file.getBytes(StandardCharsets.UTF_8)), 400,
				"invalid_file");
		String message = error.get("message").asString();
		assertThat(message).contains("line 2: is not valid JSON")
			.contains("line 3: custom_id 'a' is also used by line 1")
			.contains("line 4: url must be one of")
			.contains("line 5: body.model 'no-such-model' is not a model this service serves")
			.contains("line 6: is not a JSON object")
			.doesNotContain("line 1:")
			.doesNotContain("line 7:");
		JsonNode listed = json.readTree(get("/v1/files", "Bearer " + EmbeddedDefaults.ACME_KEY).body());
		assertThat(listed.get("data").valueStream().map((f) -> f.get("bytes").asLong()))
			.doesNotContain((long) file.length());
	}

	@Test
	void atMostTwentyBadLinesAreListed() throws Exception {
		StringBuilder file = new StringBuilder();
		for (int i = 0; i < 30; i++) {
			file.append("{\"custom_id\":\"x\"}\n");
		}
		String message = error(upload(EmbeddedDefaults.ACME_KEY, "batch", file.toString().getBytes()), 400,
				"invalid_file")
			.get("message")
			.asString();
		assertThat(message.split("line \\d+:").length - 1).isEqualTo(20);
		assertThat(message).contains("more)");
	}

	@Test
	void anEmptyFileIsRefused() throws Exception {
		assertThat(error(upload(EmbeddedDefaults.ACME_KEY, "batch", new byte[0]), 400, "invalid_file").get("message")
			.asString()).contains("empty");
		assertThat(
				error(upload(EmbeddedDefaults.ACME_KEY, "batch", "\n".getBytes()), 400, "invalid_file").get("message")
					.asString())
			.contains("line 1: is empty");
	}

	@Test
	void aFileOverTheSizeLimitIsRefusedWith400AndAFarLargerUploadWith413() throws Exception {
		// The tests run with tiergate.batch.max-file-size=4MB.
		byte[] over = Uploads.chatFile(23_000, LLAMA, 4);
		assertThat(over.length).isBetween(4 * 1024 * 1024 + 1, 5 * 1024 * 1024 - 1);
		assertThat(error(upload(EmbeddedDefaults.ACME_KEY, "batch", over), 400, "file_too_large").get("message")
			.asString()).contains("4194304");
		byte[] farOver = Uploads.chatFile(40_000, LLAMA, 4);
		error(upload(EmbeddedDefaults.ACME_KEY, "batch", farOver), 413, "request_too_large");
	}

	@Test
	void missingOrWrongPurposeAndMissingFileAre400() throws Exception {
		byte[] content = Uploads.chatFile(1, LLAMA, 4);
		assertThat(error(upload(EmbeddedDefaults.ACME_KEY, null, content), 400, "invalid_request").get("message")
			.asString()).startsWith("purpose:");
		assertThat(error(upload(EmbeddedDefaults.ACME_KEY, "fine-tune", content), 400, "invalid_request").get("message")
			.asString()).contains("fine-tune");
		assertThat(error(upload(EmbeddedDefaults.ACME_KEY, "batch", null), 400, "invalid_request").get("message")
			.asString()).startsWith("file:");
	}

	@Test
	void uploadsNeedATenantKey() throws Exception {
		error(upload("tg-wrong", "batch", Uploads.chatFile(1, LLAMA, 4)), 401, "invalid_api_key");
	}

	@Test
	void anotherTenantsFileDoesNotExist() throws Exception {
		HttpResponse<String> created = upload(EmbeddedDefaults.ACME_KEY, "batch", Uploads.chatFile(1, LLAMA, 4));
		String id = json.readTree(created.body()).get("id").asString();
		String other = "Bearer " + EmbeddedDefaults.BATCHCO_KEY;
		error(get("/v1/files/" + id, other), 404, "not_found");
		error(get("/v1/files/" + id + "/content", other), 404, "not_found");
		error(send("DELETE", "/v1/files/" + id, other, null), 404, "not_found");
		assertThat(json.readTree(get("/v1/files", other).body()).get("data").valueStream().map((f) -> f.get("id")))
			.noneMatch((f) -> f.asString().equals(id));
		assertThat(get("/v1/files/" + id, "Bearer " + EmbeddedDefaults.ACME_KEY).statusCode()).isEqualTo(200);
	}

}
