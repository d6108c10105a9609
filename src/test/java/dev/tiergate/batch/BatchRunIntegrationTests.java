package dev.tiergate.batch;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.data.redis.core.StringRedisTemplate;

import dev.tiergate.EmbeddedDefaults;
import dev.tiergate.batch.internal.BatchQueue;
import dev.tiergate.batch.internal.BatchRecords;
import dev.tiergate.requestlog.RedisRequestLog;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Tests for {@link BatchWorkers} and {@link BatchFinalizer} on the simulated fleet: a
 * batch runs to {@code completed} with one output line per item; a cancelled batch stops
 * taking items and ends {@code cancelled} with what ran; a batch whose tenant is deleted
 * fails with that reason; a failing item lands in the error file.
 */
class BatchRunIntegrationTests extends BatchTestSupport {

	@Autowired
	private BatchRecords records;

	@Autowired
	private StringRedisTemplate redis;

	@Autowired
	private RedisRequestLog requestLog;

	@Test
	void aBatchRunsToCompletedWithOneOutputLinePerItem() throws Exception {
		String key = EmbeddedDefaults.BATCHCO_KEY;
		String fileId = uploadFile(key, Uploads.chatFile(60, LLAMA, 4));
		String id = json.readTree(createBatch(key, fileId, "/v1/chat/completions").body()).get("id").asString();
		JsonNode batch = awaitStatus(key, id, "completed");
		assertThat(batch.get("request_counts").get("completed").asInt()).isEqualTo(60);
		assertThat(batch.get("request_counts").get("failed").asInt()).isZero();
		assertThat(batch.get("completed_at").asLong()).isPositive();
		assertThat(batch.get("error_file_id").isNull()).isTrue();
		Map<String, JsonNode> output = byCustomId(content(key, batch.get("output_file_id").asString()));
		assertThat(output).hasSize(60);
		JsonNode first = output.get("item-0");
		assertThat(first.get("id").asString()).startsWith("batch_req_");
		assertThat(first.get("response").get("status_code").asInt()).isEqualTo(200);
		assertThat(first.get("response").get("body").get("usage").get("completion_tokens").asInt()).isEqualTo(4);
		assertThat(first.get("response").get("body").get("service_tier").asString()).isEqualTo("flex");
		assertThat(first.get("error").isNull()).isTrue();
	}

	@Test
	void aBatchsItemsAreInTheRequestLogAsBatchItems() throws Exception {
		String tenantKey = tenantWithKey("{}", "");
		String tenant = json.readTree(get("/v1/usage", "Bearer " + tenantKey).body()).get("tenant").asString();
		Instant before = Instant.now();
		String fileId = uploadFile(tenantKey, Uploads.chatFile(3, LLAMA, 4));
		String id = json.readTree(createBatch(tenantKey, fileId, "/v1/chat/completions").body()).get("id").asString();
		awaitStatus(tenantKey, id, "completed");
		this.requestLog.flush();

		// Any replica's workers may have run the items (other cached test contexts share
		// this Redis): their records reach Redis at their own request log's next flush.
		List<JsonNode> records = new java.util.ArrayList<>();
		await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
			HttpResponse<String> export = get("/api/v1/request-log?tenant=" + tenant + "&from=" + before,
					basic("admin", "admin"));
			assertThat(export.statusCode()).isEqualTo(200);
			records.clear();
			records.addAll(export.body().lines().map(json::readTree).toList());
			assertThat(records).hasSize(3);
		});
		assertThat(records).hasSize(3).allSatisfy((record) -> {
			assertThat(record.get("api").asString()).isEqualTo("batch");
			assertThat(record.get("model").asString()).isEqualTo(LLAMA);
			assertThat(record.get("status").asInt()).isEqualTo(200);
			assertThat(record.get("completionTokens").asInt()).isEqualTo(4);
			assertThat(record.get("ttftMs").asDouble()).isLessThanOrEqualTo(record.get("durationMs").asDouble());
		});
	}

	@Test
	void aCancelledBatchStopsTakingItemsAndEndsCancelledWithWhatRan() throws Exception {
		String key = EmbeddedDefaults.BATCHCO_KEY;
		String fileId = uploadFile(key, Uploads.chatFile(3000, LLAMA, 64));
		String id = json.readTree(createBatch(key, fileId, "/v1/chat/completions").body()).get("id").asString();
		await().atMost(Duration.ofSeconds(30))
			.until(() -> json.readTree(get("/v1/batches/" + id, "Bearer " + key).body())
				.get("request_counts")
				.get("completed")
				.asInt() > 0);
		JsonNode cancelling = json.readTree(post("/v1/batches/" + id + "/cancel", key, "").body());
		assertThat(cancelling.get("status").asString()).isIn("cancelling", "finalizing", "cancelled");
		JsonNode batch = awaitStatus(key, id, "cancelled");
		int completed = batch.get("request_counts").get("completed").asInt();
		assertThat(completed).isPositive().isLessThan(3000);
		assertThat(batch.get("cancelled_at").asLong()).isPositive();
		assertThat(byCustomId(content(key, batch.get("output_file_id").asString()))).hasSize(completed);
		assertThat(post("/v1/batches/" + id + "/cancel", key, "").statusCode()).isEqualTo(200);
	}

	@Test
	void aBatchWhoseTenantIsDeletedFailsWithTheReasonAndFreesItsQueue() throws Exception {
		TenantKey tenant = newTenant("{}", "");
		String fileId = uploadFile(tenant.key(), Uploads.chatFile(3000, LLAMA, 64));
		String id = json.readTree(createBatch(tenant.key(), fileId, "/v1/chat/completions").body())
			.get("id")
			.asString();
		await().atMost(Duration.ofSeconds(30))
			.until(() -> this.records.find(tenant.id(), id).orElseThrow().completed() > 0);
		assertThat(send("DELETE", "/api/v1/tenants/" + tenant.id(), "Bearer " + EmbeddedDefaults.CI_TOKEN, null)
			.statusCode()).isEqualTo(204);
		Batch failed = await().atMost(Duration.ofSeconds(30))
			.until(() -> this.records.find(tenant.id(), id).orElseThrow(), (b) -> b.status().terminal());
		assertThat(failed.status()).isEqualTo(BatchStatus.FAILED);
		assertThat(failed.failedAt()).isNotNull();
		assertThat(failed.errors()).singleElement()
			.asString()
			.startsWith("tenant_deleted: tenant " + tenant.id() + " was deleted");
		assertThat(this.records.active()).doesNotContain(tenant.id() + "/" + id);
		assertThat(this.redis.hasKey(BatchQueue.streamKey(tenant.id(), id))).as("its stream is dropped").isFalse();
		assertThat(BatchesApiController.view(failed)).extractingByKey("errors")
			.asString()
			.contains("code=tenant_deleted");
	}

	@Test
	void anItemTheEndpointRefusesLandsInTheErrorFile() throws Exception {
		String key = EmbeddedDefaults.BATCHCO_KEY;
		String good = Uploads.chatLine("good", LLAMA, 4);
		// max_tokens must be positive: the simulated engine answers 400, as vLLM does.
		String bad = Uploads.chatLine("bad", LLAMA, 4).replace("\"max_tokens\":4", "\"max_tokens\":-3");
		String fileId = uploadFile(key, (good + "\n" + bad + "\n").getBytes(StandardCharsets.UTF_8));
		String id = json.readTree(createBatch(key, fileId, "/v1/chat/completions").body()).get("id").asString();
		JsonNode batch = awaitStatus(key, id, "completed");
		assertThat(batch.get("request_counts").get("completed").asInt()).isEqualTo(1);
		assertThat(batch.get("request_counts").get("failed").asInt()).isEqualTo(1);
		JsonNode error = byCustomId(content(key, batch.get("error_file_id").asString())).get("bad");
		assertThat(error.get("response").get("status_code").asInt()).isEqualTo(400);
		assertThat(byCustomId(content(key, batch.get("output_file_id").asString()))).containsOnlyKeys("good");
	}

	@Test
	void aBatchOfEmbeddingsRuns() throws Exception {
		String key = EmbeddedDefaults.BATCHCO_KEY;
		StringBuilder file = new StringBuilder();
		for (int i = 0; i < 20; i++) {
			file.append("""
					{"custom_id":"e%d","method":"POST","url":"/v1/embeddings","body":{"model":"%s","input":"text %d"}}
					""".formatted(i, LLAMA, i));
		}
		String fileId = uploadFile(key, file.toString().getBytes(StandardCharsets.UTF_8));
		String id = json.readTree(createBatch(key, fileId, "/v1/embeddings").body()).get("id").asString();
		JsonNode batch = awaitStatus(key, id, "completed");
		assertThat(batch.get("request_counts").get("completed").asInt()).isEqualTo(20);
		JsonNode line = byCustomId(content(key, batch.get("output_file_id").asString())).get("e7");
		assertThat(line.get("response").get("body").get("data").get(0).get("embedding")).hasSize(4096);
	}

}
