package dev.tiergate.batch;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.HttpResponse;
import com.openai.errors.NotFoundException;
import com.openai.models.batches.Batch;
import com.openai.models.batches.BatchCreateParams;
import com.openai.models.batches.BatchListParams;
import com.openai.models.files.FileCreateParams;
import com.openai.models.files.FileObject;
import com.openai.models.files.FilePurpose;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.tiergate.EmbeddedDefaults;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.awaitility.Awaitility.await;

/**
 * Tests that OpenAI's official Java library's files and batches calls work with Tiergate
 * unchanged: create a file, create a batch, retrieve, list, cancel, download the output.
 */
class BatchOpenAiClientIntegrationTests extends BatchTestSupport {

	private OpenAIClient client;

	@BeforeEach
	void connect() {
		this.client = OpenAIOkHttpClient.builder()
			.baseUrl("http://127.0.0.1:" + this.port + "/v1")
			.apiKey(EmbeddedDefaults.BATCHCO_KEY)
			.maxRetries(0)
			.timeout(Duration.ofSeconds(60))
			.build();
	}

	@AfterEach
	void close() {
		this.client.close();
	}

	private FileObject upload(Path dir, int items, int maxTokens) throws Exception {
		Path input = dir.resolve("input-" + items + ".jsonl");
		Files.write(input, Uploads.chatFile(items, LLAMA, maxTokens));
		return this.client.files().create(FileCreateParams.builder().file(input).purpose(FilePurpose.BATCH).build());
	}

	private Batch create(FileObject file) {
		return this.client.batches()
			.create(BatchCreateParams.builder()
				.inputFileId(file.id())
				.endpoint(BatchCreateParams.Endpoint.V1_CHAT_COMPLETIONS)
				.completionWindow(BatchCreateParams.CompletionWindow._24H)
				.build());
	}

	@Test
	void createsAFileAndABatchRetrievesListsAndDownloadsTheOutput(@TempDir Path dir) throws Exception {
		FileObject file = upload(dir, 10, 4);
		assertThat(file.id()).startsWith("file-");
		assertThat(file.purpose()).isEqualTo(FileObject.Purpose.BATCH);
		assertThat(file.filename()).isEqualTo("input-10.jsonl");
		assertThat(this.client.files().retrieve(file.id()).bytes()).isEqualTo(file.bytes());

		Batch batch = create(file);
		assertThat(batch.inputFileId()).isEqualTo(file.id());
		Batch done = await().atMost(Duration.ofSeconds(60))
			.pollInterval(Duration.ofMillis(200))
			.until(() -> this.client.batches().retrieve(batch.id()), (b) -> b.status().equals(Batch.Status.COMPLETED));
		assertThat(done.requestCounts()).hasValueSatisfying((c) -> {
			assertThat(c.total()).isEqualTo(10);
			assertThat(c.completed()).isEqualTo(10);
		});
		assertThat(this.client.batches().list(BatchListParams.builder().limit(100).build()).data())
			.extracting(Batch::id)
			.contains(batch.id());

		try (HttpResponse content = this.client.files().content(done.outputFileId().orElseThrow());
				InputStream body = content.body()) {
			String output = new String(body.readAllBytes(), StandardCharsets.UTF_8);
			Map<String, JsonNode> lines = byCustomId(output);
			assertThat(lines).hasSize(10);
			assertThat(lines.get("item-3").get("response").get("status_code").asInt()).isEqualTo(200);
		}
	}

	@Test
	void cancelsABatch(@TempDir Path dir) throws Exception {
		Batch batch = create(upload(dir, 2000, 64));
		Batch cancelling = this.client.batches().cancel(batch.id());
		assertThat(cancelling.status()).isIn(Batch.Status.CANCELLING, Batch.Status.FINALIZING, Batch.Status.CANCELLED);
		Batch cancelled = await().atMost(Duration.ofSeconds(60))
			.pollInterval(Duration.ofMillis(200))
			.until(() -> this.client.batches().retrieve(batch.id()), (b) -> b.status().equals(Batch.Status.CANCELLED));
		assertThat(cancelled.cancelledAt()).isPresent();
		assertThat(cancelled.requestCounts().orElseThrow().completed()).isLessThan(2000);
	}

	@Test
	void anotherTenantsBatchIsNotFoundForTheClient() {
		assertThatExceptionOfType(NotFoundException.class)
			.isThrownBy(() -> this.client.batches().retrieve("batch_0000000000000000000000000000000"));
	}

}
