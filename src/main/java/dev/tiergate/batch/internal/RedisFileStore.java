package dev.tiergate.batch.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

import org.springframework.data.redis.connection.RedisStringCommands;
import org.springframework.data.redis.core.RedisCallback;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.data.redis.core.script.DefaultRedisScript;
import org.springframework.data.redis.core.script.RedisScript;
import org.springframework.data.redis.core.types.Expiration;

import dev.tiergate.batch.FileStore;
import dev.tiergate.batch.StoredFile;

/**
 * {@link FileStore} in Redis. A file is a hash of its description
 * ({@code tg:batch:{<tenant>}:file:<id>}) and its content in chunks of at most the
 * configured size ({@code tg:batch:{<tenant>}:file:<id>:<n>}); the tenant's files are a
 * sorted set by creation time ({@code tg:batch:{<tenant>}:files}). Chunks are written
 * under their upload's own keys with an expiry while the upload runs, and moved into
 * place by the commit, so an upload cut off by a crash leaves nothing behind for long,
 * and a committed file is never changed by another upload of its id.
 */
public class RedisFileStore implements FileStore {

	/** How long the chunks of an upload that is never committed are kept. */
	static final Duration PENDING = Duration.ofHours(1);

	/**
	 * Commits an upload unless the file exists. KEYS[1] the file's hash, KEYS[2] the
	 * tenant's index, then the n staged chunks, then the n chunks' places; ARGV: n, the
	 * id, the index score, then the hash's field-value pairs. Returns 1 committed, 0 the
	 * file existed (the staged chunks are dropped), -1 a staged chunk is gone (nothing
	 * changed).
	 */
	private static final RedisScript<Long> COMMIT = new DefaultRedisScript<>("""
			local n = tonumber(ARGV[1])
			if redis.call('EXISTS', KEYS[1]) == 1 then
			  for i = 1, n do redis.call('DEL', KEYS[2 + i]) end
			  return 0
			end
			for i = 1, n do
			  if redis.call('EXISTS', KEYS[2 + i]) == 0 then return -1 end
			end
			for i = 1, n do
			  redis.call('RENAME', KEYS[2 + i], KEYS[2 + n + i])
			  redis.call('PERSIST', KEYS[2 + n + i])
			end
			for j = 4, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[j], ARGV[j + 1]) end
			redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
			return 1""", Long.class);

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
	 * Buffers up to one chunk and writes it, with an expiry, under a key of this upload's
	 * own ({@code ...:file:<id>:upload-<token>:<n>}); the commit moves the chunks into
	 * place and writes the description in one script, unless the file already exists. So
	 * a file is written once: an upload of an id that is already committed (a finalizer
	 * taken over after it wrote its files) neither changes nor deletes it, and a chunk
	 * that expired before the commit fails the commit instead of leaving a hole.
	 */
	private final class RedisUpload implements Upload {

		private final String tenant;

		private final String id;

		private final String token = UUID.randomUUID().toString().substring(0, 12);

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

		private String stagedKey(int n) {
			return fileKey(this.tenant, this.id) + ":upload-" + this.token + ":" + n;
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
			byte[] key = stagedKey(this.chunks++).getBytes(StandardCharsets.UTF_8);
			byte[] value = java.util.Arrays.copyOf(this.buffer, this.filled);
			this.filled = 0;
			RedisFileStore.this.redis.execute((RedisCallback<Boolean>) (connection) -> connection.stringCommands()
				.set(key, value, Expiration.from(PENDING), RedisStringCommands.SetOption.upsert()));
		}

		@Override
		public StoredFile commit(String filename, String purpose, long createdAt) throws IOException {
			flushChunk();
			int count = this.chunks;
			List<String> keys = new ArrayList<>(2 + 2 * count);
			keys.add(fileKey(this.tenant, this.id));
			keys.add(indexKey(this.tenant));
			for (int n = 0; n < count; n++) {
				keys.add(stagedKey(n));
			}
			for (int n = 0; n < count; n++) {
				keys.add(new String(chunkKey(this.tenant, this.id, n), StandardCharsets.UTF_8));
			}
			Long outcome = RedisFileStore.this.redis.execute(COMMIT, keys, Integer.toString(count), this.id,
					Long.toString(createdAt), "bytes", Long.toString(this.bytes), "createdAt", Long.toString(createdAt),
					"filename", filename, "purpose", purpose, "chunks", Integer.toString(count));
			if (outcome == null || outcome < 0) {
				throw new IOException("A chunk of file " + this.id + " expired before its upload was committed");
			}
			this.committed = true;
			if (outcome == 0) {
				// Written before (and never changed): that file stands.
				return find(this.tenant, this.id)
					.orElseThrow(() -> new IOException("File " + this.id + " was deleted while it was written"));
			}
			return new StoredFile(this.id, this.tenant, this.bytes, createdAt, filename, purpose);
		}

		@Override
		public void close() {
			if (this.committed) {
				return;
			}
			int count = this.chunks;
			RedisFileStore.this.redis.executePipelined((RedisCallback<Object>) (connection) -> {
				for (int n = 0; n < count; n++) {
					connection.keyCommands().del(stagedKey(n).getBytes(StandardCharsets.UTF_8));
				}
				return null;
			});
		}

	}

}
