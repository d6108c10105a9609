package dev.tiergate.quota;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Collectors;

import org.springframework.dao.DataAccessException;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.data.redis.core.script.DefaultRedisScript;
import org.springframework.data.redis.core.script.RedisScript;

import dev.tiergate.tier.Tier;

/**
 * Tenants and their API keys, in Redis. A key is stored only as its hash; the key itself
 * is returned once, when it is made.
 * <p>
 * Layout: {@code tg:quota:tenants} (set of ids); {@code tg:quota:{id}:tenant} (hash of
 * the tenant's fields and limits); {@code tg:quota:{id}:keys} (hash keyId ->
 * "hash|prefix|createdMillis"); {@code tg:quota:key:<sha256>} (string "id|keyId", the
 * lookup used on every request, so revoking a key takes effect at once on every replica).
 * Deleting a tenant removes these but keeps its usage ({@code tg:quota:{id}:usage:*},
 * {@code tg:quota:{id}:budget}).
 * <p>
 * While Redis is unreachable (or the quota circuit is open), {@link #authenticate}
 * answers from the keys this replica saw succeed last, so that tiers that fail open keep
 * being served; revocations made during the outage cannot be seen until Redis returns.
 */
public class TenantStore {

	static final String TENANTS = "tg:quota:tenants";

	/** The pub/sub channel on which replicas announce a changed tenant (its id). */
	public static final String CHANGES = "tg:quota:tenant-changes";

	private static final int MAX_REMEMBERED_KEYS = 10_000;

	/** Creates the tenant hash only if it does not exist: 1 created, 0 exists. */
	private static final RedisScript<Long> CREATE = new DefaultRedisScript<>("""
			if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
			redis.call('HSET', KEYS[1], unpack(ARGV))
			return 1""", Long.class);

	/** Replaces the tenant hash only if it exists: 1 replaced, 0 missing. */
	private static final RedisScript<Long> REPLACE = new DefaultRedisScript<>("""
			if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
			redis.call('DEL', KEYS[1])
			redis.call('HSET', KEYS[1], unpack(ARGV))
			return 1""", Long.class);

	/**
	 * Writes a tenant's fields, replacing any. KEYS[1] the tenant; ARGV field-value
	 * pairs.
	 */
	private static final RedisScript<Long> SAVE = new DefaultRedisScript<>("""
			redis.call('DEL', KEYS[1])
			redis.call('HSET', KEYS[1], unpack(ARGV))
			return 1""", Long.class);

	private final StringRedisTemplate redis;

	private final Clock clock;

	private final QuotaBackendCircuit circuit;

	/**
	 * The tenant each key hash was last seen to belong to, and when: answers
	 * authentication without Redis while fresh (younger than {@link #keyCacheTtl}), and
	 * while Redis is unavailable.
	 */
	private final Map<String, Known> lastKnown = new ConcurrentHashMap<>();

	private final long keyCacheTtlMillis;

	/**
	 * The reads from Redis of keys under way, by key hash: requests that find a key's
	 * memory stale while it is read wait for that read instead of each reading it again.
	 * When a burst of thousands of requests with one key found it stale, each had read it
	 * (a {@code GET} and an {@code HGETALL}), and they queued for Redis's connection
	 * while the memory stayed stale (docs/benchmarks.md, 10,000 streams).
	 */
	private final Map<String, CompletableFuture<Optional<Tenant>>> reading = new ConcurrentHashMap<>();

	/** Keys read from Redis, for tests. */
	private final LongAdder reads = new LongAdder();

	public TenantStore(StringRedisTemplate redis, Clock clock) {
		this(redis, clock, null, Duration.ZERO);
	}

	TenantStore(StringRedisTemplate redis, Clock clock, QuotaBackendCircuit circuit, Duration keyCacheTtl) {
		this.redis = redis;
		this.clock = clock;
		this.circuit = circuit;
		this.keyCacheTtlMillis = keyCacheTtl.toMillis();
	}

	/** A key's tenant as last read from Redis, at {@code at} (epoch milliseconds). */
	private record Known(Tenant tenant, long at) {
	}

	static String tenantKey(String id) {
		return "tg:quota:{" + id + "}:tenant";
	}

	private static String keysKey(String id) {
		return "tg:quota:{" + id + "}:keys";
	}

	private static String lookupKey(String hash) {
		return "tg:quota:key:" + hash;
	}

	/**
	 * An API key as listings show it: never the key itself.
	 *
	 * @param id the key's id, used to revoke it
	 * @param prefix its first characters
	 * @param created when it was made
	 */
	public record KeyInfo(String id, String prefix, Instant created) {
	}

	/**
	 * Creates or replaces a tenant (used for seeding).
	 * @param tenant the tenant
	 */
	public void save(Tenant tenant) {
		// One script: a reader never finds the tenant missing while it is replaced.
		this.redis.execute(SAVE, List.of(tenantKey(tenant.id())), flat(fields(tenant)));
		this.redis.opsForSet().add(TENANTS, tenant.id());
		changed(tenant.id());
	}

	/**
	 * Creates a tenant.
	 * @param tenant the tenant
	 * @throws TenantConflictException if one with the same id exists
	 */
	public void create(Tenant tenant) {
		Long created = this.redis.execute(CREATE, List.of(tenantKey(tenant.id())), flat(fields(tenant)));
		if (created == null || created == 0) {
			throw new TenantConflictException(tenant.id());
		}
		this.redis.opsForSet().add(TENANTS, tenant.id());
	}

	/**
	 * Replaces an existing tenant's fields and limits.
	 * @param tenant the tenant
	 * @throws TenantNotFoundException if none has its id
	 */
	public void update(Tenant tenant) {
		Long replaced = this.redis.execute(REPLACE, List.of(tenantKey(tenant.id())), flat(fields(tenant)));
		if (replaced == null || replaced == 0) {
			throw notFound(tenant.id());
		}
		changed(tenant.id());
	}

	/**
	 * Deletes a tenant and its keys (which stop working at once); its usage history
	 * stays.
	 * @param id the tenant
	 * @return whether it existed
	 */
	public boolean delete(String id) {
		if (!id.matches(Tenant.ID_PATTERN)) {
			return false;
		}
		for (Object value : this.redis.opsForHash().values(keysKey(id))) {
			this.redis.delete(lookupKey(((String) value).split("\\|")[0]));
		}
		Long removed = this.redis.delete(List.of(tenantKey(id), keysKey(id)));
		this.redis.opsForSet().remove(TENANTS, id);
		changed(id);
		return removed != null && removed > 0;
	}

	private static Map<String, String> fields(Tenant tenant) {
		Map<String, String> fields = new LinkedHashMap<>();
		fields.put("displayName", tenant.displayName());
		fields.put("allowedTiers",
				tenant.allowedTiers().stream().sorted().map(Tier::name).collect(Collectors.joining(",")));
		fields.put("defaultTier", tenant.defaultTier().name());
		fields.put("weight", Integer.toString(tenant.weight()));
		Limits limits = tenant.limits();
		putIfSet(fields, "requestsPerMinute", limits.requestsPerMinute());
		putIfSet(fields, "tokensPerMinute", limits.tokensPerMinute());
		putIfSet(fields, "maxConcurrent", limits.maxConcurrent());
		putIfSet(fields, "monthlyTokenBudget", limits.monthlyTokenBudget());
		putIfSet(fields, "enqueuedTokens", limits.enqueuedTokens());
		fields.put("batchTier", tenant.batchTier().name());
		fields.put("batchSpill", Boolean.toString(tenant.batchSpill()));
		return fields;
	}

	private static void putIfSet(Map<String, String> fields, String name, Long value) {
		if (value != null) {
			fields.put(name, Long.toString(value));
		}
	}

	private static Object[] flat(Map<String, String> fields) {
		List<String> args = new ArrayList<>();
		fields.forEach((k, v) -> {
			args.add(k);
			args.add(v);
		});
		return args.toArray();
	}

	/**
	 * Finds a tenant.
	 * @param id the tenant id
	 * @return the tenant, or empty if none has that id
	 */
	public Optional<Tenant> find(String id) {
		if (id == null || !id.matches(Tenant.ID_PATTERN)) {
			return Optional.empty();
		}
		Map<Object, Object> fields = this.redis.opsForHash().entries(tenantKey(id));
		if (fields.isEmpty()) {
			return Optional.empty();
		}
		EnumSet<Tier> tiers = EnumSet.noneOf(Tier.class);
		Arrays.stream(((String) fields.get("allowedTiers")).split(","))
			.map(Tier::parse)
			.flatMap(Optional::stream)
			.forEach(tiers::add);
		Limits limits = new Limits(number(fields, "requestsPerMinute"), number(fields, "tokensPerMinute"),
				number(fields, "maxConcurrent"), number(fields, "monthlyTokenBudget"),
				number(fields, "enqueuedTokens"));
		Tier batchTier = (fields.get("batchTier") instanceof String name) ? Tier.parse(name).orElse(null) : null;
		return Optional.of(new Tenant(id, (String) fields.get("displayName"), tiers,
				Tier.valueOf((String) fields.get("defaultTier")), Integer.parseInt((String) fields.get("weight")),
				limits, (batchTier != null && tiers.contains(batchTier)) ? batchTier : null,
				"true".equals(fields.get("batchSpill"))));
	}

	private static Long number(Map<Object, Object> fields, String name) {
		Object value = fields.get(name);
		return (value != null) ? Long.valueOf((String) value) : null;
	}

	/**
	 * All tenants, sorted by id.
	 * @return the tenants
	 */
	public List<Tenant> findAll() {
		var ids = this.redis.opsForSet().members(TENANTS);
		return (ids == null) ? List.of() : ids.stream().sorted().map(this::find).flatMap(Optional::stream).toList();
	}

	/**
	 * Makes a new API key for a tenant.
	 * @param tenantId the tenant
	 * @return the key, which is not stored and cannot be shown again
	 * @throws TenantNotFoundException if the tenant does not exist
	 */
	public String createKey(String tenantId) {
		return issueKey(tenantId).key();
	}

	/**
	 * A key just made: the only time the key itself is seen.
	 *
	 * @param key the key
	 * @param info what listings show of it
	 */
	public record IssuedKey(String key, KeyInfo info) {
	}

	/**
	 * Makes a new API key for a tenant and says how listings will show it.
	 * @param tenantId the tenant
	 * @return the key and its listing
	 * @throws TenantNotFoundException if the tenant does not exist
	 */
	public IssuedKey issueKey(String tenantId) {
		if (find(tenantId).isEmpty()) {
			throw notFound(tenantId);
		}
		String key = ApiKeys.generate("tg-");
		return new IssuedKey(key, register(tenantId, key));
	}

	/**
	 * Registers a key chosen by the caller, such as the embedded default's well-known
	 * demo keys. Registering the same key again does nothing.
	 * @param tenantId the tenant
	 * @param key the key
	 */
	public void addKey(String tenantId, String key) {
		if (Boolean.TRUE.equals(this.redis.hasKey(lookupKey(ApiKeys.hash(key))))) {
			return;
		}
		register(tenantId, key);
	}

	private KeyInfo register(String tenantId, String key) {
		String hash = ApiKeys.hash(key);
		String keyId = UUID.randomUUID().toString().substring(0, 8);
		long created = this.clock.millis();
		this.redis.opsForHash().put(keysKey(tenantId), keyId, hash + "|" + ApiKeys.displayPrefix(key) + "|" + created);
		this.redis.opsForValue().set(lookupKey(hash), tenantId + "|" + keyId);
		return new KeyInfo(keyId, ApiKeys.displayPrefix(key), Instant.ofEpochMilli(created));
	}

	/**
	 * A tenant's keys, oldest first.
	 * @param tenantId the tenant
	 * @return prefix and creation time of each key
	 * @throws TenantNotFoundException if the tenant does not exist
	 */
	public List<KeyInfo> keys(String tenantId) {
		if (find(tenantId).isEmpty()) {
			throw notFound(tenantId);
		}
		List<KeyInfo> keys = new ArrayList<>();
		this.redis.opsForHash().entries(keysKey(tenantId)).forEach((keyId, value) -> {
			String[] parts = ((String) value).split("\\|");
			keys.add(new KeyInfo((String) keyId, parts[1], Instant.ofEpochMilli(Long.parseLong(parts[2]))));
		});
		keys.sort(Comparator.comparing(KeyInfo::created).thenComparing(KeyInfo::id));
		return keys;
	}

	/**
	 * Revokes a key: the next request that presents it is refused on this replica at
	 * once, and on the others as soon as they hear of the change, at the latest when
	 * their memory of the key expires ({@code tiergate.quota.key-cache-ttl}).
	 * @param tenantId the tenant
	 * @param keyId the key's id
	 * @throws TenantNotFoundException if the tenant or the key does not exist
	 */
	public void revokeKey(String tenantId, String keyId) {
		Object value = (tenantId.matches(Tenant.ID_PATTERN)) ? this.redis.opsForHash().get(keysKey(tenantId), keyId)
				: null;
		if (value == null) {
			throw new TenantNotFoundException("Tenant '" + tenantId + "' has no key '" + keyId + "'.");
		}
		String hash = ((String) value).split("\\|")[0];
		this.redis.delete(lookupKey(hash));
		this.redis.opsForHash().delete(keysKey(tenantId), keyId);
		this.lastKnown.remove(hash);
		changed(tenantId);
	}

	/**
	 * Finds the tenant a key belongs to.
	 * @param key the presented key
	 * @return the tenant, or empty for an unknown or revoked key
	 * @throws DataAccessException if Redis cannot answer and this replica has not seen
	 * the key succeed before
	 */
	public Optional<Tenant> authenticate(String key) {
		String hash = ApiKeys.hash(key);
		Known fresh = fresh(hash);
		if (fresh != null) {
			return Optional.of(fresh.tenant());
		}
		CompletableFuture<Optional<Tenant>> mine = new CompletableFuture<>();
		CompletableFuture<Optional<Tenant>> underWay = this.reading.putIfAbsent(hash, mine);
		if (underWay != null) {
			try {
				return underWay.join();
			}
			catch (CompletionException ex) {
				if (ex.getCause() instanceof Error error) {
					throw error;
				}
				throw (ex.getCause() instanceof RuntimeException cause) ? cause : ex;
			}
		}
		try {
			// A read that ended between this thread's look at the memory and its
			// claim of the read has left the key fresh: answer from it, not from a
			// second read.
			Known known = fresh(hash);
			Optional<Tenant> tenant = (known != null) ? Optional.of(known.tenant()) : read(hash);
			mine.complete(tenant);
			return tenant;
		}
		catch (RuntimeException | Error ex) {
			mine.completeExceptionally(ex);
			throw ex;
		}
		finally {
			this.reading.remove(hash, mine);
		}
	}

	/**
	 * What this replica remembers of a key hash, if it is younger than the key memory's
	 * time to live.
	 */
	private Known fresh(String hash) {
		Known known = this.lastKnown.get(hash);
		return (known != null && this.clock.millis() - known.at() < this.keyCacheTtlMillis) ? known : null;
	}

	/**
	 * Reads the tenant of a key hash from Redis, and remembers it; while Redis is
	 * unavailable, answers from memory.
	 */
	private Optional<Tenant> read(String hash) {
		if (this.circuit != null && !this.circuit.allow()) {
			return remembered(hash, null);
		}
		this.reads.increment();
		Optional<Tenant> tenant;
		try {
			String owner = this.redis.opsForValue().get(lookupKey(hash));
			tenant = (owner != null) ? find(owner.substring(0, owner.indexOf('|'))) : Optional.empty();
		}
		catch (DataAccessException ex) {
			if (this.circuit == null) {
				throw ex;
			}
			this.circuit.failure(ex);
			return remembered(hash, ex);
		}
		catch (RuntimeException ex) {
			// Redis answered (a malformed tenant record, say): the circuit hears of it,
			// so
			// a probe never leaves it half-open.
			if (this.circuit != null) {
				this.circuit.failure(ex);
			}
			throw ex;
		}
		if (this.circuit != null) {
			this.circuit.success();
		}
		if (tenant.isPresent()) {
			if (this.lastKnown.size() >= MAX_REMEMBERED_KEYS) {
				this.lastKnown.clear();
			}
			this.lastKnown.put(hash, new Known(tenant.get(), this.clock.millis()));
		}
		else {
			this.lastKnown.remove(hash);
		}
		return tenant;
	}

	/** Keys read from Redis so far. */
	long reads() {
		return this.reads.sum();
	}

	private Optional<Tenant> remembered(String hash, DataAccessException cause) {
		Known known = this.lastKnown.get(hash);
		if (known == null) {
			throw new DataAccessResourceFailureException("Quota store unavailable and key not seen before", cause);
		}
		return Optional.of(known.tenant());
	}

	/**
	 * Forgets what this replica remembers of a tenant's keys, so that its next request is
	 * authenticated against Redis again. Called when any replica changed the tenant.
	 * @param tenantId the tenant
	 */
	public void forget(String tenantId) {
		this.lastKnown.values().removeIf((known) -> known.tenant().id().equals(tenantId));
	}

	/**
	 * A tenant or its keys changed: this replica forgets them at once, the others when
	 * they hear it on {@link #CHANGES} (or when their memory of it expires).
	 */
	private void changed(String tenantId) {
		forget(tenantId);
		try {
			this.redis.convertAndSend(CHANGES, tenantId);
		}
		catch (DataAccessException ex) {
			// the change itself was written; other replicas forget by expiry
		}
	}

	private static TenantNotFoundException notFound(String id) {
		return new TenantNotFoundException("No tenant has id '" + id + "'.");
	}

}
