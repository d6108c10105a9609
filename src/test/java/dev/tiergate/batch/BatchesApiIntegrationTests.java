package dev.tiergate.batch;

import java.net.http.HttpResponse;

import org.junit.jupiter.api.Test;

import dev.tiergate.EmbeddedDefaults;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link BatchesApiController}: creating, reading, listing and cancelling
 * batches in OpenAI's shapes, tenant-scoped, within the enqueued-tokens limit.
 */
class BatchesApiIntegrationTests extends BatchTestSupport {

	@Test
	void createsRetrievesListsAndCancelsABatchInOpenAisShapes() throws Exception {
		String key = tenantWithKey("{}", "");
		String fileId = uploadFile(key, Uploads.chatFile(3, LLAMA, 4));
		HttpResponse<String> created = createBatch(key, fileId, "/v1/chat/completions");
		assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
		JsonNode batch = json.readTree(created.body());
		String id = batch.get("id").asString();
		assertThat(id).startsWith("batch_");
		assertThat(batch.get("object").asString()).isEqualTo("batch");
		assertThat(batch.get("endpoint").asString()).isEqualTo("/v1/chat/completions");
		assertThat(batch.get("input_file_id").asString()).isEqualTo(fileId);
		assertThat(batch.get("completion_window").asString()).isEqualTo("24h");
		assertThat(batch.get("status").asString()).isIn("in_progress", "finalizing", "completed");
		assertThat(batch.get("request_counts").get("total").asInt()).isEqualTo(3);
		assertThat(batch.get("metadata").get("job").asString()).isEqualTo("nightly");
		assertThat(batch.get("expires_at").asLong() - batch.get("created_at").asLong()).isEqualTo(24 * 3600);
		assertThat(batch.get("x_tiergate_tier").asString()).isEqualTo("P2");

		JsonNode read = json.readTree(get("/v1/batches/" + id, "Bearer " + key).body());
		assertThat(read.get("id").asString()).isEqualTo(id);
		String second = json.readTree(createBatch(key, fileId, "/v1/chat/completions").body()).get("id").asString();
		JsonNode page = json.readTree(get("/v1/batches?limit=1", "Bearer " + key).body());
		assertThat(page.get("object").asString()).isEqualTo("list");
		assertThat(page.get("data")).hasSize(1);
		assertThat(page.get("data").get(0).get("id").asString()).isEqualTo(second);
		assertThat(page.get("has_more").asBoolean()).isTrue();
		JsonNode next = json.readTree(get("/v1/batches?limit=1&after=" + second, "Bearer " + key).body());
		assertThat(next.get("data").get(0).get("id").asString()).isEqualTo(id);
		assertThat(next.get("has_more").asBoolean()).isFalse();

		// Three small items may have run already: then it can no longer be cancelled.
		HttpResponse<String> cancel = post("/v1/batches/" + second + "/cancel", key, "");
		if (cancel.statusCode() == 200) {
			assertThat(json.readTree(cancel.body()).get("status").asString()).isIn("cancelling", "cancelled");
		}
		else {
			error(cancel, 409, "batch_not_cancellable");
		}
	}

	@Test
	void anotherTenantsBatchAndFileAre404() throws Exception {
		String fileId = uploadFile(EmbeddedDefaults.ACME_KEY, Uploads.chatFile(2, LLAMA, 4));
		String id = json.readTree(createBatch(EmbeddedDefaults.ACME_KEY, fileId, "/v1/chat/completions").body())
			.get("id")
			.asString();
		error(get("/v1/batches/" + id, "Bearer " + EmbeddedDefaults.BATCHCO_KEY), 404, "not_found");
		error(post("/v1/batches/" + id + "/cancel", EmbeddedDefaults.BATCHCO_KEY, ""), 404, "not_found");
		error(createBatch(EmbeddedDefaults.BATCHCO_KEY, fileId, "/v1/chat/completions"), 404, "not_found");
		assertThat(json.readTree(get("/v1/batches?limit=100", "Bearer " + EmbeddedDefaults.BATCHCO_KEY).body())
			.get("data")
			.valueStream()
			.map((b) -> b.get("id").asString())).doesNotContain(id);
	}

	@Test
	void badCreateRequestsAre400NamingTheField() throws Exception {
		String fileId = uploadFile(EmbeddedDefaults.ACME_KEY, Uploads.chatFile(1, LLAMA, 4));
		assertThat(error(createBatch(EmbeddedDefaults.ACME_KEY, fileId, "/v1/completions"), 400, "invalid_request")
			.get("message")
			.asString()).startsWith("endpoint:").contains("/v1/chat/completions");
		assertThat(error(createBatch(EmbeddedDefaults.ACME_KEY, fileId, "/v1/images"), 400, "invalid_request")
			.get("message")
			.asString()).startsWith("endpoint:");
		assertThat(error(post("/v1/batches", EmbeddedDefaults.ACME_KEY, """
				{"input_file_id":"%s","endpoint":"/v1/chat/completions","completion_window":"1h"}""".formatted(fileId)),
				400, "invalid_request")
			.get("message")
			.asString()).startsWith("completion_window:");
		assertThat(error(post("/v1/batches", EmbeddedDefaults.ACME_KEY, """
				{"endpoint":"/v1/chat/completions","completion_window":"24h"}"""), 400, "invalid_request")
			.get("message")
			.asString()).startsWith("input_file_id:");
		error(post("/v1/batches", EmbeddedDefaults.ACME_KEY, """
				{"input_file_id":"file-nope","endpoint":"/v1/chat/completions","completion_window":"24h"}"""), 404,
				"not_found");
		error(get("/v1/batches?limit=0", "Bearer " + EmbeddedDefaults.ACME_KEY), 400, "invalid_request");
	}

	@Test
	void aTenantOverItsEnqueuedTokensLimitGets429() throws Exception {
		// Each line: about 6 prompt tokens + 4 completion tokens.
		String key = tenantWithKey("{\"enqueuedTokens\":50}", "");
		String fileId = uploadFile(key, Uploads.chatFile(3, LLAMA, 4));
		HttpResponse<String> first = createBatch(key, fileId, "/v1/chat/completions");
		assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
		JsonNode refused = error(createBatch(key, fileId, "/v1/chat/completions"), 429, "token_limit_exceeded");
		assertThat(refused.get("message").asString()).contains("limit is 50");
		String big = uploadFile(key, Uploads.chatFile(1, LLAMA, 400));
		error(createBatch(key, big, "/v1/chat/completions"), 429, "token_limit_exceeded");
		// A finished batch's tokens no longer count.
		awaitStatus(key, json.readTree(first.body()).get("id").asString(), "completed");
		assertThat(createBatch(key, fileId, "/v1/chat/completions").statusCode()).isEqualTo(200);
	}

	@Test
	void itemsRunAtTheTenantsBatchTier() throws Exception {
		String key = tenantWithKey("{}", ",\"batchTier\":\"P1\"");
		String fileId = uploadFile(key, Uploads.chatFile(1, LLAMA, 4));
		assertThat(json.readTree(createBatch(key, fileId, "/v1/chat/completions").body())
			.get("x_tiergate_tier")
			.asString()).isEqualTo("P1");
	}

}
