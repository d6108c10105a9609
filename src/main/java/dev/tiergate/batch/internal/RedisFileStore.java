package dev.tiergate.batch.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.RedisStringCommands;
import org.springframework.data.redis.core.RedisCallback;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.data.redis.core.types.Expiration;

import dev.tiergate.batch.FileStore;
import dev.tiergate.batch.StoredFile;

/**
 * {@link FileStore} in Redis. A file is a hash of its description
 * ({@code tg:batch:{<tenant>}:file:<id>}) and its content in chunks of at most the
 * configured size ({@code tg:batch:{<tenant>}:file:<id>:<n>}); the tenant's files are a
 * sorted set by creation time ({@code tg:batch:{<tenant>}:files}). Chunks are written
 * with an expiry while the upload runs and made permanent on commit, so an upload cut off
 * by a crash leaves nothing behind for long.
 */
public class RedisFileStore implements FileStore {

	/** How long the chunks of an upload that is never committed are kept. */
	static final Duration PENDING = Duration.ofHours(1);

	private final StringRedisTemplate redis;

	private final int chunkSize;

	/**
	 * A store.
	 * @param redis Redis
	 * @param chunkSize largest chunk, in bytes
	 */
	public RedisFileStore(StringRedisTemplate redis, int chunkSize) {
		this.redis = redis;
		this.chunkSize = chunkSize;
	}

	static String fileKey(String tenant, String id) {
		return BatchKeys.prefix(tenant) + "file:" + id;
	}

	static String indexKey(String tenant) {
		return BatchKeys.prefix(tenant) + "files";
	}

	private static byte[] chunkKey(String tenant, String id, int n) {
		return (fileKey(tenant, id) + ":" + n).getBytes(StandardCharsets.UTF_8);
	}

	@Override
	public Upload begin(String tenant, String id) {
		return new RedisUpload(tenant, id);
	}

	@Override
	public Optional<StoredFile> find(String tenant, String id) {
		if (!BatchKeys.validId(id)) {
			return Optional.empty();
		}
		Map<Object, Object> fields = this.redis.opsForHash().entries(fileKey(tenant, id));
		if (fields.isEmpty()) {
			return Optional.empty();
		}
		return Optional.of(new StoredFile(id, tenant, Long.parseLong((String) fields.get("bytes")),
				Long.parseLong((String) fields.get("createdAt")), (String) fields.get("filename"),
				(String) fields.get("purpose")));
	}

	private int chunks(String tenant, String id) {
		Object chunks = this.redis.opsForHash().get(fileKey(tenant, id), "chunks");
		return (chunks != null) ? Integer.parseInt((String) chunks) : -1;
	}

	@Override
	public List<StoredFile> list(String tenant) {
		Set<String> ids = this.redis.opsForZSet().reverseRange(indexKey(tenant), 0, -1);
		List<StoredFile> files = new ArrayList<>();
		if (ids != null) {
			for (String id : ids) {
				find(tenant, id).ifPresent(files::add);
			}
		}
		return files;
	}

	@Override
	public Optional<InputStream> open(String tenant, String id) {
		if (!BatchKeys.validId(id)) {
			return Optional.empty();
		}
		int chunks = chunks(tenant, id);
		if (chunks < 0) {
			return Optional.empty();
		}
		return Optional.of(new ChunkStream(tenant, id, chunks));
	}

	@Override
	public boolean delete(String tenant, String id) {
		if (!BatchKeys.validId(id)) {
			return false;
		}
		int chunks = chunks(tenant, id);
		if (chunks < 0) {
			return false;
		}
		this.redis.execute((RedisCallback<Void>) (connection) -> {
			for (int n = 0; n < chunks; n++) {
				connection.keyCommands().del(chunkKey(tenant, id, n));
			}
			return null;
		});
		this.redis.delete(fileKey(tenant, id));
		this.redis.opsForZSet().remove(indexKey(tenant), id);
		return true;
	}

	/**
	 * Reads chunk after chunk as the caller consumes them.
	 */
	private final class ChunkStream extends InputStream {

		private final String tenant;

		private final String id;

		private final int chunks;

		private int next;

		private byte[] current = new byte[0];

		private int position;

		ChunkStream(String tenant, String id, int chunks) {
			this.tenant = tenant;
			this.id = id;
			this.chunks = chunks;
		}

		private boolean fill() throws IOException {
			while (this.position >= this.current.length) {
				if (this.next >= this.chunks) {
					return false;
				}
				byte[] key = chunkKey(this.tenant, this.id, this.next++);
				byte[] chunk = RedisFileStore.this.redis
					.execute((RedisCallback<byte[]>) (connection) -> connection.stringCommands().get(key));
				if (chunk == null) {
					throw new IOException("Chunk " + (this.next - 1) + " of file " + this.id + " is missing");
				}
				this.current = chunk;
				this.position = 0;
			}
			return true;
		}

		@Override
		public int read() throws IOException {
			return fill() ? (this.current[this.position++] & 0xff) : -1;
		}

		@Override
		public int read(byte[] buffer, int offset, int length) throws IOException {
			if (length == 0) {
				return 0;
			}
			if (!fill()) {
				return -1;
			}
			int n = Math.min(length, this.current.length - this.position);
			System.arraycopy(this.current, this.position, buffer, offset, n);
			this.position += n;
			return n;
		}

	}

	/**
	 * Buffers up to one chunk, writes it with an expiry, and makes everything permanent
	 * on commit.
	 */
	private final class RedisUpload implements Upload {

		private final String tenant;

		private final String id;

		private final byte[] buffer;

		private int filled;

		private int chunks;

		private long bytes;

		private boolean committed;

		RedisUpload(String tenant, String id) {
			this.tenant = tenant;
			this.id = id;
			this.buffer = new byte[RedisFileStore.this.chunkSize];
		}

		@Override
		public void write(byte[] bytes, int offset, int length) {
			while (length > 0) {
				int n = Math.min(length, this.buffer.length - this.filled);
				System.arraycopy(bytes, offset, this.buffer, this.filled, n);
				this.filled += n;
				offset += n;
				length -= n;
				this.bytes += n;
				if (this.filled == this.buffer.length) {
					flushChunk();
				}
			}
		}

		private void flushChunk() {
			if (this.filled == 0) {
				return;
			}
			byte[] key = chunkKey(this.tenant, this.id, this.chunks++);
			byte[] value = java.util.Arrays.copyOf(this.buffer, this.filled);
			this.filled = 0;
			RedisFileStore.this.redis.execute((RedisCallback<Boolean>) (connection) -> connection.stringCommands()
				.set(key, value, Expiration.from(PENDING), RedisStringCommands.SetOption.upsert()));
		}

		@Override
		public StoredFile commit(String filename, String purpose, long createdAt) {
			flushChunk();
			int count = this.chunks;
			RedisFileStore.this.redis.executePipelined((RedisCallback<Object>) (connection) -> {
				persist(connection, count);
				return null;
			});
			Map<String, String> fields = new LinkedHashMap<>();
			fields.put("bytes", Long.toString(this.bytes));
			fields.put("createdAt", Long.toString(createdAt));
			fields.put("filename", filename);
			fields.put("purpose", purpose);
			fields.put("chunks", Integer.toString(count));
			RedisFileStore.this.redis.opsForHash().putAll(fileKey(this.tenant, this.id), fields);
			RedisFileStore.this.redis.opsForZSet().add(indexKey(this.tenant), this.id, createdAt);
			this.committed = true;
			return new StoredFile(this.id, this.tenant, this.bytes, createdAt, filename, purpose);
		}

		private void persist(RedisConnection connection, int count) {
			for (int n = 0; n < count; n++) {
				connection.keyCommands().persist(chunkKey(this.tenant, this.id, n));
			}
		}

		@Override
		public void close() {
			if (this.committed) {
				return;
			}
			int count = this.chunks;
			RedisFileStore.this.redis.executePipelined((RedisCallback<Object>) (connection) -> {
				for (int n = 0; n < count; n++) {
					connection.keyCommands().del(chunkKey(this.tenant, this.id, n));
				}
				return null;
			});
		}

	}

}
