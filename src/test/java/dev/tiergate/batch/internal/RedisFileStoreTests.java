package dev.tiergate.batch.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.UUID;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.core.StringRedisTemplate;

import dev.tiergate.LocalRedis;
import dev.tiergate.batch.FileStore;
import dev.tiergate.batch.StoredFile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIOException;

/**
 * Tests for {@link RedisFileStore} on the local Redis: files in chunks of 16 bytes, each
 * test under a tenant of its own.
 */
class RedisFileStoreTests {

	private final StringRedisTemplate redis = LocalRedis.template();

	private final RedisFileStore store = new RedisFileStore(this.redis, 16);

	private final String tenant = "fs-" + UUID.randomUUID().toString().substring(0, 8);

	@AfterEach
	void forget() {
		Set<String> keys = this.redis.keys(BatchKeys.prefix(this.tenant) + "*");
		if (keys != null && !keys.isEmpty()) {
			this.redis.delete(keys);
		}
	}

	@Test
	void aCommittedFileReadsBackWhatWasWrittenAndKeepsNoUploadKeys() throws IOException {
		String text = "line one of the file\nline two of the file\nthree\n";
		StoredFile file = write("file-a", text, true);
		assertThat(file.bytes()).isEqualTo(text.length());
		assertThat(read("file-a")).isEqualTo(text);
		assertThat(keys("file-a:upload-*")).isEmpty();
		for (String chunk : keys("file-a:[0-9]*")) {
			assertThat(this.redis.getExpire(chunk)).as(chunk + " is permanent").isEqualTo(-1L);
		}
		assertThat(keys("file-a:[0-9]*")).hasSize(3);
	}

	@Test
	void anotherUploadOfACommittedIdNeitherChangesNorDeletesIt() throws IOException {
		String first = "the first version, written once\n";
		write("file-b", first, true);
		// Cut off before its commit: what it wrote goes, the committed file stays.
		write("file-b", "a second version that is longer than the first one\n", false);
		assertThat(read("file-b")).isEqualTo(first);
		// Committed: the file that exists wins, unchanged.
		StoredFile again = write("file-b", "a third version\n", true);
		assertThat(again.bytes()).isEqualTo(first.length());
		assertThat(read("file-b")).isEqualTo(first);
		assertThat(keys("file-b:upload-*")).isEmpty();
		for (String chunk : keys("file-b:[0-9]*")) {
			assertThat(this.redis.getExpire(chunk)).as(chunk + " is permanent").isEqualTo(-1L);
		}
	}

	@Test
	void anUploadWhoseChunkExpiredBeforeItsCommitPublishesNothing() throws IOException {
		try (FileStore.Upload upload = this.store.begin(this.tenant, "file-c")) {
			byte[] bytes = "forty bytes of content, in three chunks\n".getBytes(StandardCharsets.UTF_8);
			upload.write(bytes, 0, bytes.length);
			this.redis.delete(keys("file-c:upload-*").iterator().next());
			assertThatIOException().isThrownBy(() -> upload.commit("c.jsonl", "batch", 1L))
				.withMessageContaining("expired");
		}
		assertThat(this.store.find(this.tenant, "file-c")).isEmpty();
		assertThat(this.store.open(this.tenant, "file-c")).isEmpty();
		assertThat(keys("file-c*")).isEmpty();
	}

	private StoredFile write(String id, String text, boolean commit) throws IOException {
		try (FileStore.Upload upload = this.store.begin(this.tenant, id)) {
			byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
			upload.write(bytes, 0, bytes.length);
			return commit ? upload.commit(id + ".jsonl", "batch", 1_700_000_000L) : null;
		}
	}

	private String read(String id) throws IOException {
		try (InputStream in = this.store.open(this.tenant, id).orElseThrow()) {
			return new String(in.readAllBytes(), StandardCharsets.UTF_8);
		}
	}

	private Set<String> keys(String pattern) {
		return this.redis.keys(BatchKeys.prefix(this.tenant) + "file:" + pattern);
	}

}
