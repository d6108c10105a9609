package dev.tiergate.quota;

import java.time.Clock;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Collectors;

import org.springframework.data.redis.core.StringRedisTemplate;

import dev.tiergate.dispatch.Tier;

/**
 * Tenants and their API keys, in Redis. A key is stored only as its hash; the key itself is returned once, when it is
 * made.
 * <p>
 * Layout: {@code tg:quota:tenants} (set of ids); {@code tg:quota:{id}:tenant} (hash of the tenant's fields);
 * {@code tg:quota:{id}:keys} (hash keyId -> "hash|prefix|createdMillis"); {@code tg:quota:key:<sha256>} (string
 * "id|keyId", the lookup used on every request, so revoking a key takes effect at once on every replica).
 */
public class TenantStore {

	static final String TENANTS = "tg:quota:tenants";

	private final StringRedisTemplate redis;

	private final Clock clock;

	public TenantStore(StringRedisTemplate redis, Clock clock) {
		this.redis = redis;
		this.clock = clock;
	}

	private static String tenantKey(String id) {
		return "tg:quota:{" + id + "}:tenant";
	}

	private static String keysKey(String id) {
		return "tg:quota:{" + id + "}:keys";
	}

	private static String lookupKey(String hash) {
		return "tg:quota:key:" + hash;
	}

	/**
	 * Creates or replaces a tenant.
	 * @param tenant the tenant
	 */
	public void save(Tenant tenant) {
		Map<String, String> fields = new LinkedHashMap<>();
		fields.put("displayName", tenant.displayName());
		fields.put("allowedTiers",
				tenant.allowedTiers().stream().sorted().map(Tier::name).collect(Collectors.joining(",")));
		fields.put("defaultTier", tenant.defaultTier().name());
		fields.put("weight", Integer.toString(tenant.weight()));
		this.redis.opsForHash().putAll(tenantKey(tenant.id()), fields);
		this.redis.opsForSet().add(TENANTS, tenant.id());
	}

	/**
	 * Finds a tenant.
	 * @param id the tenant id
	 * @return the tenant, or empty if none has that id
	 */
	public Optional<Tenant> find(String id) {
		if (!id.matches(Tenant.ID_PATTERN)) {
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
		return Optional.of(new Tenant(id, (String) fields.get("displayName"), tiers,
				Tier.valueOf((String) fields.get("defaultTier")), Integer.parseInt((String) fields.get("weight"))));
	}

	/**
	 * All tenants, sorted by id.
	 * @return the tenants
	 */
	public List<Tenant> findAll() {
		var ids = this.redis.opsForSet().members(TENANTS);
		return (ids == null) ? List.of()
				: ids.stream().sorted().map(this::find).flatMap(Optional::stream).toList();
	}

	/**
	 * Makes a new API key for a tenant.
	 * @param tenantId the tenant
	 * @return the key, which is not stored and cannot be shown again
	 */
	public String createKey(String tenantId) {
		String key = ApiKeys.generate("tg-");
		addKey(tenantId, key);
		return key;
	}

	/**
	 * Registers a key chosen by the caller, such as the embedded default's well-known demo keys. Registering the same
	 * key again does nothing.
	 * @param tenantId the tenant
	 * @param key the key
	 */
	public void addKey(String tenantId, String key) {
		String hash = ApiKeys.hash(key);
		if (Boolean.TRUE.equals(this.redis.hasKey(lookupKey(hash)))) {
			return;
		}
		String keyId = UUID.randomUUID().toString().substring(0, 8);
		this.redis.opsForHash()
			.put(keysKey(tenantId), keyId, hash + "|" + ApiKeys.displayPrefix(key) + "|" + this.clock.millis());
		this.redis.opsForValue().set(lookupKey(hash), tenantId + "|" + keyId);
	}

	/**
	 * Finds the tenant a key belongs to.
	 * @param key the presented key
	 * @return the tenant, or empty for an unknown or revoked key
	 */
	public Optional<Tenant> authenticate(String key) {
		String owner = this.redis.opsForValue().get(lookupKey(ApiKeys.hash(key)));
		if (owner == null) {
			return Optional.empty();
		}
		return find(owner.substring(0, owner.indexOf('|')));
	}

}
