package dev.tiergate.batch.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.springframework.dao.DataAccessException;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.data.redis.core.script.DefaultRedisScript;
import org.springframework.data.redis.core.script.RedisScript;

import dev.tiergate.batch.Batch;
import dev.tiergate.batch.BatchStatus;
import dev.tiergate.tier.Tier;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * Batches in Redis: one hash per batch ({@code tg:batch:{<tenant>}:batch:<id>}), the
 * tenant's batches by creation ({@code tg:batch:{<tenant>}:batches}), and the index of
 * unfinished batches every replica's workers scan ({@link BatchKeys#ACTIVE}). Status
 * changes are compare-and-set scripts, so that replicas racing to cancel, expire or
 * finalize a batch agree on one outcome.
 */
public class BatchRecords {

	/**
	 * Moves a batch to a status if it is in one of the expected ones, stamping the time
	 * and setting further fields. KEYS[1] batch hash; ARGV: new status, time field, time,
	 * k, k expected statuses, then field-value pairs.
	 */
	private static final RedisScript<Long> TRANSITION = new DefaultRedisScript<>("""
			local status = redis.call('HGET', KEYS[1], 'status')
			if not status then return -1 end
			local k = tonumber(ARGV[4])
			for i = 5, 4 + k do
			  if status == ARGV[i] then
			    redis.call('HSET', KEYS[1], 'status', ARGV[1])
			    if ARGV[2] ~= '' then redis.call('HSETNX', KEYS[1], ARGV[2], ARGV[3]) end
			    for j = 5 + k, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[j], ARGV[j + 1]) end
			    return 1
			  end
			end
			return 0""", Long.class);

	/**
	 * Takes over finalizing a batch whose finalizer's lease ran out. KEYS[1] batch hash;
	 * ARGV: owner, now (ms), lease end (ms).
	 */
	private static final RedisScript<Long> TAKE_OVER = new DefaultRedisScript<>("""
			if redis.call('HGET', KEYS[1], 'status') ~= 'finalizing' then return 0 end
			if tonumber(redis.call('HGET', KEYS[1], 'finalizeUntil') or '0') >= tonumber(ARGV[2]) then return 0 end
			redis.call('HSET', KEYS[1], 'finalizer', ARGV[1], 'finalizeUntil', ARGV[3])
			return 1""", Long.class);

	private final StringRedisTemplate redis;

	/** Field of a batch's hash: when its queueing last made progress (milliseconds). */
	private static final String QUEUEING_PROGRESS = "queueing_progress_ms";

	private final JsonMapper json;

	/**
	 * The records.
	 * @param redis Redis
	 * @param json for metadata and errors
	 */
	public BatchRecords(StringRedisTemplate redis, JsonMapper json) {
		this.redis = redis;
		this.json = json;
	}

	/**
	 * The hash of one batch.
	 * @param tenant the tenant
	 * @param id the batch
	 * @return the key
	 */
	public static String batchKey(String tenant, String id) {
		return BatchKeys.prefix(tenant) + "batch:" + id;
	}

	static String indexKey(String tenant) {
		return BatchKeys.prefix(tenant) + "batches";
	}

	/**
	 * Writes a new batch, listed for its tenant.
	 * @param batch the batch
	 * @param createdMillis its creation in milliseconds, the order of the listing
	 */
	public void create(Batch batch, long createdMillis) {
		this.redis.opsForHash().putAll(batchKey(batch.tenant(), batch.id()), fields(batch));
		this.redis.opsForZSet().add(indexKey(batch.tenant()), batch.id(), createdMillis);
	}

	/**
	 * Adds or replaces fields of a batch.
	 * @param tenant the tenant
	 * @param id the batch
	 * @param fields the fields
	 */
	public void set(String tenant, String id, Map<String, String> fields) {
		this.redis.opsForHash().putAll(batchKey(tenant, id), fields);
	}

	/**
	 * Moves a batch to a status if it is in one of the expected ones.
	 * @param tenant the tenant
	 * @param id the batch
	 * @param to the new status
	 * @param timeField the field stamped with {@code time} (only if not set yet), or
	 * {@code null}
	 * @param time epoch seconds
	 * @param from the statuses it may move from
	 * @return {@code true} if it moved
	 */
	public boolean transition(String tenant, String id, BatchStatus to, String timeField, long time,
			Set<BatchStatus> from) {
		return transition(tenant, id, to, timeField, time, from, Map.of());
	}

	/**
	 * Moves a batch to a status if it is in one of the expected ones, and sets fields
	 * with it, atomically.
	 * @param tenant the tenant
	 * @param id the batch
	 * @param to the new status
	 * @param timeField the field stamped with {@code time} (only if not set yet), or
	 * {@code null}
	 * @param time epoch seconds
	 * @param from the statuses it may move from
	 * @param fields set only if it moved
	 * @return {@code true} if it moved
	 */
	public boolean transition(String tenant, String id, BatchStatus to, String timeField, long time,
			Set<BatchStatus> from, Map<String, String> fields) {
		List<String> args = new ArrayList<>();
		args.add(to.wire());
		args.add((timeField != null) ? timeField : "");
		args.add(Long.toString(time));
		args.add(Integer.toString(from.size()));
		from.forEach((s) -> args.add(s.wire()));
		fields.forEach((k, v) -> {
			args.add(k);
			args.add(v);
		});
		Long moved = this.redis.execute(TRANSITION, List.of(batchKey(tenant, id)), args.toArray());
		return moved != null && moved == 1;
	}

	/**
	 * Takes over finalizing a batch whose finalizer has not finished within its lease.
	 * @param tenant the tenant
	 * @param id the batch
	 * @param owner the new finalizer
	 * @param nowMillis the time
	 * @param untilMillis the end of the new lease
	 * @return {@code true} if this caller now finalizes it
	 */
	public boolean takeOverFinalizing(String tenant, String id, String owner, long nowMillis, long untilMillis) {
		Long taken = this.redis.execute(TAKE_OVER, List.of(batchKey(tenant, id)), owner, Long.toString(nowMillis),
				Long.toString(untilMillis));
		return taken != null && taken == 1;
	}

	/**
	 * Notes that the queueing of a batch's items made progress (began, or queued a page),
	 * so that workers restart only a queueing that stopped, not one that is slow.
	 * @param tenant the tenant
	 * @param id the batch
	 * @param nowMillis the time
	 */
	public void queueingProgressed(String tenant, String id, long nowMillis) {
		this.redis.opsForHash().put(batchKey(tenant, id), QUEUEING_PROGRESS, Long.toString(nowMillis));
	}

	/**
	 * When the queueing of a batch's items last made progress.
	 * @param tenant the tenant
	 * @param id the batch
	 * @return the time in milliseconds, or 0 if never noted
	 */
	public long queueingProgress(String tenant, String id) {
		Object value = this.redis.opsForHash().get(batchKey(tenant, id), QUEUEING_PROGRESS);
		try {
			return (value != null) ? Long.parseLong(value.toString()) : 0;
		}
		catch (NumberFormatException ex) {
			return 0;
		}
	}

	/**
	 * Lists a batch as unfinished, for every replica's workers, and announces it on
	 * {@link BatchKeys#ACTIVATED} so that idle workers look at once. An announcement that
	 * no replica hears (a subscriber reconnecting) only delays the batch's start to the
	 * workers' next idle poll.
	 * @param tenant the tenant
	 * @param id the batch
	 * @param createdAt its creation, the order workers take batches in
	 */
	public void activate(String tenant, String id, long createdAt) {
		String member = tenant + "/" + id;
		this.redis.opsForZSet().add(BatchKeys.ACTIVE, member, createdAt);
		try {
			this.redis.convertAndSend(BatchKeys.ACTIVATED, member);
		}
		catch (DataAccessException ex) {
			// listed all the same: workers find it at their next idle poll
		}
	}

	/**
	 * Takes a finished batch off the unfinished list.
	 * @param tenant the tenant
	 * @param id the batch
	 */
	public void deactivate(String tenant, String id) {
		this.redis.opsForZSet().remove(BatchKeys.ACTIVE, tenant + "/" + id);
	}

	/**
	 * Unfinished batches, oldest first.
	 * @return {@code <tenant>/<id>} each
	 */
	public List<String> active() {
		Set<String> members = this.redis.opsForZSet().range(BatchKeys.ACTIVE, 0, -1);
		return (members != null) ? List.copyOf(members) : List.of();
	}

	/**
	 * One batch.
	 * @param tenant the tenant
	 * @param id the batch
	 * @return the batch, or empty when this tenant has none with that id
	 */
	public Optional<Batch> find(String tenant, String id) {
		if (!BatchKeys.validId(id)) {
			return Optional.empty();
		}
		Map<Object, Object> fields = this.redis.opsForHash().entries(batchKey(tenant, id));
		if (fields.isEmpty() || !fields.containsKey("status")) {
			return Optional.empty();
		}
		return Optional.of(batch(tenant, id, fields));
	}

	/**
	 * A tenant's batch ids, newest first.
	 * @param tenant the tenant
	 * @return the ids
	 */
	public List<String> ids(String tenant) {
		Set<String> ids = this.redis.opsForZSet().reverseRange(indexKey(tenant), 0, -1);
		return (ids != null) ? List.copyOf(ids) : List.of();
	}

	private Map<String, String> fields(Batch batch) {
		Map<String, String> fields = new LinkedHashMap<>();
		fields.put("endpoint", batch.endpoint());
		put(fields, "model", batch.model());
		fields.put("tier", batch.tier().name());
		fields.put("inputFileId", batch.inputFileId());
		fields.put("completionWindow", batch.completionWindow());
		fields.put("status", batch.status().wire());
		fields.put("created_at", Long.toString(batch.createdAt()));
		put(fields, "in_progress_at", batch.inProgressAt());
		put(fields, "expires_at", batch.expiresAt());
		put(fields, "finalizing_at", batch.finalizingAt());
		put(fields, "completed_at", batch.completedAt());
		put(fields, "failed_at", batch.failedAt());
		put(fields, "expired_at", batch.expiredAt());
		put(fields, "cancelling_at", batch.cancellingAt());
		put(fields, "cancelled_at", batch.cancelledAt());
		put(fields, "outputFileId", batch.outputFileId());
		put(fields, "errorFileId", batch.errorFileId());
		fields.put("total", Integer.toString(batch.total()));
		fields.put("completed", Integer.toString(batch.completed()));
		fields.put("failed", Integer.toString(batch.failed()));
		fields.put("enqueuedTokens", Long.toString(batch.enqueuedTokens()));
		fields.put("metadata", this.json.writeValueAsString(batch.metadata()));
		fields.put("errors", this.json.writeValueAsString(batch.errors()));
		return fields;
	}

	private static void put(Map<String, String> fields, String name, Object value) {
		if (value != null) {
			fields.put(name, value.toString());
		}
	}

	private Batch batch(String tenant, String id, Map<Object, Object> f) {
		Map<String, String> metadata = this.json.readValue(text(f, "metadata", "{}"),
				new TypeReference<Map<String, String>>() {
				});
		List<String> errors = this.json.readValue(text(f, "errors", "[]"), new TypeReference<List<String>>() {
		});
		return new Batch(id, tenant, text(f, "endpoint", null), text(f, "model", null),
				Tier.parse(text(f, "tier", "P2")).orElse(Tier.P2), text(f, "inputFileId", null),
				text(f, "completionWindow", "24h"), BatchStatus.of(text(f, "status", "failed")),
				number(f, "created_at", 0L), number(f, "in_progress_at", null), number(f, "expires_at", null),
				number(f, "finalizing_at", null), number(f, "completed_at", null), number(f, "failed_at", null),
				number(f, "expired_at", null), number(f, "cancelling_at", null), number(f, "cancelled_at", null),
				text(f, "outputFileId", null), text(f, "errorFileId", null), number(f, "total", 0L).intValue(),
				number(f, "completed", 0L).intValue(), number(f, "failed", 0L).intValue(),
				number(f, "enqueuedTokens", 0L), metadata, errors);
	}

	private static String text(Map<Object, Object> fields, String name, String fallback) {
		Object value = fields.get(name);
		return (value != null) ? (String) value : fallback;
	}

	private static Long number(Map<Object, Object> fields, String name, Long fallback) {
		Object value = fields.get(name);
		return (value != null) ? Long.valueOf((String) value) : fallback;
	}

}
