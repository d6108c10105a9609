package dev.tiergate.batch.internal;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;

import org.springframework.data.domain.Range;
import org.springframework.data.redis.RedisSystemException;
import org.springframework.data.redis.connection.Limit;
import org.springframework.data.redis.connection.RedisStreamCommands.XClaimOptions;
import org.springframework.data.redis.connection.stream.Consumer;
import org.springframework.data.redis.connection.stream.MapRecord;
import org.springframework.data.redis.connection.stream.PendingMessages;
import org.springframework.data.redis.connection.stream.PendingMessagesSummary;
import org.springframework.data.redis.connection.stream.ReadOffset;
import org.springframework.data.redis.connection.stream.RecordId;
import org.springframework.data.redis.connection.stream.StreamOffset;
import org.springframework.data.redis.connection.stream.StreamReadOptions;
import org.springframework.data.redis.core.RedisCallback;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.data.redis.core.script.DefaultRedisScript;
import org.springframework.data.redis.core.script.RedisScript;

import io.lettuce.core.StreamMessage;
import io.lettuce.core.XAutoClaimArgs;
import io.lettuce.core.api.async.RedisStreamAsyncCommands;
import io.lettuce.core.models.stream.ClaimedMessages;

/**
 * The checkpointed job queue: one Redis stream of items per batch
 * ({@code tg:batch:{<tenant>}:batch:<id>:items}) read by the consumer group
 * {@value #GROUP}, whose pending entries list is the checkpoint: an item delivered to a
 * worker stays pending until that worker has written its result and acknowledged it, and
 * items a dead worker left pending are claimed by another with {@code XAUTOCLAIM}.
 * Results go to one hash per batch ({@code ...:results}, field {@code custom_id}),
 * written with {@code HSETNX} by a script that also counts them, so writing a result
 * twice (after a crash between the write and the acknowledgement) changes nothing.
 */
public class BatchQueue {

	/** The consumer group of every replica's workers. */
	public static final String GROUP = "workers";

	/**
	 * Records an item's result once. KEYS[1] batch hash, KEYS[2] results hash; ARGV:
	 * custom_id, kind ({@code o} output, {@code e} error), the result line. Returns
	 * {written (1), duplicate (0) or batch finished (-1), items done, total}.
	 */
	@SuppressWarnings("rawtypes")
	private static final RedisScript<List> RECORD = new DefaultRedisScript<>("""
			local status = redis.call('HGET', KEYS[1], 'status')
			if (not status) or status == 'completed' or status == 'failed' or status == 'expired'
			    or status == 'cancelled' or status == 'finalizing' then
			  return { -1, 0, 0 }
			end
			local written = 0
			if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2] .. ARGV[3]) == 1 then
			  redis.call('HINCRBY', KEYS[1], (ARGV[2] == 'o') and 'completed' or 'failed', 1)
			  written = 1
			end
			local counts = redis.call('HMGET', KEYS[1], 'completed', 'failed', 'total')
			return { written, tonumber(counts[1] or '0') + tonumber(counts[2] or '0'), tonumber(counts[3] or '0') }""",
			List.class);

	/**
	 * Appends the items after the stream's last line. KEYS[1] the stream; ARGV five per
	 * item: line, custom_id, prompt tokens, max tokens, body. Returns the items added.
	 */
	private static final RedisScript<Long> ENQUEUE = new DefaultRedisScript<>("""
			local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
			local last = 0
			if #top > 0 then last = tonumber(string.match(top[1][1], '^(%d+)')) end
			local added = 0
			for i = 1, #ARGV, 5 do
			  local line = tonumber(ARGV[i])
			  if line > last then
			    redis.call('XADD', KEYS[1], ARGV[i] .. '-1', 'c', ARGV[i + 1], 'n', ARGV[i], 'p', ARGV[i + 2],
			        'm', ARGV[i + 3], 'b', ARGV[i + 4])
			    last = line
			    added = added + 1
			  end
			end
			return added""", Long.class);

	private final StringRedisTemplate redis;

	/**
	 * The queue.
	 * @param redis Redis
	 */
	public BatchQueue(StringRedisTemplate redis) {
		this.redis = redis;
	}

	/**
	 * A batch's stream of items.
	 * @param tenant the tenant
	 * @param id the batch
	 * @return the key
	 */
	public static String streamKey(String tenant, String id) {
		return BatchRecords.batchKey(tenant, id) + ":items";
	}

	/**
	 * A batch's results.
	 * @param tenant the tenant
	 * @param id the batch
	 * @return the key
	 */
	public static String resultsKey(String tenant, String id) {
		return BatchRecords.batchKey(tenant, id) + ":results";
	}

	/**
	 * An item handed to a worker.
	 *
	 * @param entryId its stream entry id, acknowledged when its result is written
	 * @param item the item
	 */
	public record Delivery(String entryId, QueueItem item) {
	}

	/**
	 * What recording a result came to.
	 *
	 * @param written {@code 1} written now, {@code 0} written before, {@code -1} the
	 * batch had finished and nothing was written
	 * @param done items with a result
	 * @param total items in the batch
	 */
	public record Recorded(int written, int done, int total) {
	}

	/**
	 * Starts a batch's stream and its consumer group, unless they exist (a batch whose
	 * queueing was cut off goes on where it stopped).
	 * @param tenant the tenant
	 * @param id the batch
	 */
	public void start(String tenant, String id) {
		String key = streamKey(tenant, id);
		try {
			this.redis.execute((RedisCallback<Object>) (connection) -> {
				connection.streamCommands().xGroupCreate(bytes(key), GROUP, ReadOffset.from("0-0"), true);
				return null;
			});
		}
		catch (org.springframework.dao.DataAccessException ex) {
			if (ex.getMostSpecificCause().getMessage() == null
					|| !ex.getMostSpecificCause().getMessage().contains("BUSYGROUP")) {
				throw ex;
			}
		}
	}

	/**
	 * Appends items, in one script call per page, so that a page is added whole or not at
	 * all (a pipeline of single {@code XADD}s could lose some in the middle when the
	 * client cancels commands that time out under load, and the stream's ids, which only
	 * grow, could never take them back: the batch would wait for them forever). Each
	 * entry's id is its line number ({@code <line>-1}), and the script adds only lines
	 * after the stream's last one, so appending again after a failure adds nothing twice
	 * and the stream holds every item once, in input order.
	 * @param tenant the tenant
	 * @param id the batch
	 * @param items the items, in line order
	 */
	public void enqueue(String tenant, String id, List<QueueItem> items) {
		List<String> keys = List.of(streamKey(tenant, id));
		Object[] args = new Object[items.size() * 5];
		int i = 0;
		for (QueueItem item : items) {
			args[i++] = Integer.toString(item.line());
			args[i++] = item.customId();
			args[i++] = Long.toString(item.promptTokens());
			args[i++] = Long.toString(item.maxTokens());
			args[i++] = item.body();
		}
		for (int attempt = 1;; attempt++) {
			try {
				this.redis.execute(ENQUEUE, keys, args);
				return;
			}
			catch (org.springframework.dao.DataAccessException ex) {
				if (attempt == 3) {
					throw ex;
				}
			}
		}
	}

	/**
	 * Takes up to {@code count} new items for a worker; they stay pending for it until
	 * acknowledged.
	 * @param tenant the tenant
	 * @param id the batch
	 * @param consumer the worker's name
	 * @param count most items
	 * @return the items, possibly none
	 */
	public List<Delivery> read(String tenant, String id, String consumer, int count) {
		List<MapRecord<String, Object, Object>> records = this.redis.opsForStream()
			.read(Consumer.from(GROUP, consumer), StreamReadOptions.empty().count(count),
					StreamOffset.create(streamKey(tenant, id), ReadOffset.lastConsumed()));
		List<Delivery> deliveries = new ArrayList<>();
		if (records != null) {
			for (MapRecord<String, Object, Object> record : records) {
				deliveries.add(new Delivery(record.getId().getValue(), item(record.getValue())));
			}
		}
		return deliveries;
	}

	/**
	 * Claims up to {@code count} items that other workers left pending longer than
	 * {@code minIdle} ({@code XAUTOCLAIM}).
	 * @param tenant the tenant
	 * @param id the batch
	 * @param consumer the claiming worker
	 * @param minIdle how long an item must have been left alone
	 * @param count most items
	 * @return the claimed items
	 */
	public List<Delivery> claim(String tenant, String id, String consumer, Duration minIdle, int count) {
		byte[] key = bytes(streamKey(tenant, id));
		List<Delivery> deliveries = new ArrayList<>();
		// XAUTOCLAIM scans a bounded stretch of the pending list per call and returns
		// where
		// to go on: follow that cursor, so that items of a dead worker behind a stretch
		// of
		// live workers' items are reached too.
		String start = "0-0";
		for (int calls = 0; calls < MAX_CLAIM_CALLS && deliveries.size() < count; calls++) {
			ClaimedMessages<byte[], byte[]> claimed = autoClaim(key, consumer, minIdle, start,
					count - deliveries.size());
			if (claimed == null) {
				break;
			}
			for (StreamMessage<byte[], byte[]> message : claimed.getMessages()) {
				if (message.getBody() == null || message.getBody().isEmpty()) {
					continue;
				}
				Map<Object, Object> fields = new HashMap<>();
				message.getBody()
					.forEach((k, v) -> fields.put(new String(k, StandardCharsets.UTF_8),
							new String(v, StandardCharsets.UTF_8)));
				deliveries.add(new Delivery(message.getId(), item(fields)));
			}
			start = claimed.getId();
			if (start == null || "0-0".equals(start)) {
				break;
			}
		}
		return deliveries;
	}

	/** Most {@code XAUTOCLAIM} calls one claim makes while following the cursor. */
	private static final int MAX_CLAIM_CALLS = 64;

	private ClaimedMessages<byte[], byte[]> autoClaim(byte[] key, String consumer, Duration minIdle, String start,
			int count) {
		return this.redis.execute((RedisCallback<ClaimedMessages<byte[], byte[]>>) (connection) -> {
			@SuppressWarnings("unchecked")
			RedisStreamAsyncCommands<byte[], byte[]> commands = (RedisStreamAsyncCommands<byte[], byte[]>) connection
				.getNativeConnection();
			try {
				return commands
					.xautoclaim(key,
							XAutoClaimArgs.Builder
								.xautoclaim(io.lettuce.core.Consumer.from(bytes(GROUP), bytes(consumer)), minIdle,
										start)
								.count(count))
					.get();
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				throw new RedisSystemException("Interrupted while claiming batch items", ex);
			}
			catch (ExecutionException ex) {
				throw new RedisSystemException("XAUTOCLAIM failed", ex.getCause());
			}
		});
	}

	/**
	 * Resets the idle time of items a live worker is still running, so that no other
	 * worker claims them.
	 * @param tenant the tenant
	 * @param id the batch
	 * @param consumer the worker
	 * @param entryIds its items
	 */
	public void touch(String tenant, String id, String consumer, List<String> entryIds) {
		if (entryIds.isEmpty()) {
			return;
		}
		byte[] key = bytes(streamKey(tenant, id));
		RecordId[] ids = entryIds.stream().map(RecordId::of).toArray(RecordId[]::new);
		this.redis.execute((RedisCallback<Object>) (connection) -> connection.streamCommands()
			.xClaimJustId(key, GROUP, consumer, XClaimOptions.minIdle(Duration.ZERO).ids(ids)));
	}

	/**
	 * How often an item has been delivered (1 on its first read, more after claims).
	 * @param tenant the tenant
	 * @param id the batch
	 * @param entryId the item
	 * @return deliveries, 0 when it is not pending
	 */
	public long deliveries(String tenant, String id, String entryId) {
		PendingMessages pending = this.redis.opsForStream()
			.pending(streamKey(tenant, id), GROUP, Range.closed(entryId, entryId), 1);
		return (pending == null || pending.isEmpty()) ? 0 : pending.get(0).getTotalDeliveryCount();
	}

	/**
	 * Whether an item already has a result.
	 * @param tenant the tenant
	 * @param id the batch
	 * @param customId the item
	 * @return {@code true} when written
	 */
	public boolean hasResult(String tenant, String id, String customId) {
		return Boolean.TRUE.equals(this.redis.opsForHash().hasKey(resultsKey(tenant, id), customId));
	}

	/**
	 * Writes an item's result unless it has one, and counts it.
	 * @param tenant the tenant
	 * @param id the batch
	 * @param customId the item
	 * @param ok {@code true} for the output file, {@code false} for the error file
	 * @param line the result line
	 * @return what happened
	 */
	public Recorded record(String tenant, String id, String customId, boolean ok, String line) {
		List<?> result = this.redis.execute(RECORD, List.of(BatchRecords.batchKey(tenant, id), resultsKey(tenant, id)),
				customId, ok ? "o" : "e", line);
		return new Recorded(((Number) result.get(0)).intValue(), ((Number) result.get(1)).intValue(),
				((Number) result.get(2)).intValue());
	}

	/**
	 * Acknowledges an item: it leaves the pending entries list for good.
	 * @param tenant the tenant
	 * @param id the batch
	 * @param entryId the item
	 */
	public void ack(String tenant, String id, String entryId) {
		this.redis.opsForStream().acknowledge(streamKey(tenant, id), GROUP, entryId);
	}

	/**
	 * Items delivered to some worker and not acknowledged: running, or left by a dead
	 * worker.
	 * @param tenant the tenant
	 * @param id the batch
	 * @return the count
	 */
	public long pending(String tenant, String id) {
		PendingMessagesSummary summary = this.redis.opsForStream().pending(streamKey(tenant, id), GROUP);
		return (summary != null) ? summary.getTotalPendingMessages() : 0;
	}

	/**
	 * Items in the stream, in order, after an entry.
	 * @param tenant the tenant
	 * @param id the batch
	 * @param after the entry before the first one wanted, or {@code null} from the start
	 * @param count most items
	 * @return the items
	 */
	public List<Delivery> range(String tenant, String id, String after, int count) {
		Range<String> range = (after != null) ? Range.leftOpen(after, "+") : Range.closed("-", "+");
		List<MapRecord<String, Object, Object>> records = this.redis.opsForStream()
			.range(streamKey(tenant, id), range, Limit.limit().count(count));
		List<Delivery> deliveries = new ArrayList<>();
		if (records != null) {
			for (MapRecord<String, Object, Object> record : records) {
				deliveries.add(new Delivery(record.getId().getValue(), item(record.getValue())));
			}
		}
		return deliveries;
	}

	/**
	 * The results of some items.
	 * @param tenant the tenant
	 * @param id the batch
	 * @param customIds the items
	 * @return each item's result ({@code o} or {@code e} then the line), {@code null}
	 * where there is none
	 */
	public List<String> results(String tenant, String id, List<String> customIds) {
		List<Object> values = this.redis.opsForHash().multiGet(resultsKey(tenant, id), new ArrayList<>(customIds));
		List<String> results = new ArrayList<>(values.size());
		values.forEach((v) -> results.add((String) v));
		return results;
	}

	/**
	 * Removes a finished batch's stream and results (its files hold them now).
	 * @param tenant the tenant
	 * @param id the batch
	 */
	public void drop(String tenant, String id) {
		this.redis.delete(List.of(streamKey(tenant, id), resultsKey(tenant, id)));
	}

	private static QueueItem item(Map<Object, Object> fields) {
		return new QueueItem((String) fields.get("c"), Integer.parseInt((String) fields.get("n")),
				(String) fields.get("b"), Long.parseLong((String) fields.get("p")),
				Long.parseLong((String) fields.get("m")));
	}

	private static byte[] bytes(String text) {
		return text.getBytes(StandardCharsets.UTF_8);
	}

}
