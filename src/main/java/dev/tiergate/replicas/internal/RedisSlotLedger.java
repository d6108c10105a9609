package dev.tiergate.replicas.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.springframework.core.io.ClassPathResource;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.data.redis.core.script.DefaultRedisScript;
import org.springframework.data.redis.core.script.RedisScript;

/**
 * The replicas' registry and slot ledger in Redis, one fleet per key prefix
 * {@code tg:replicas:{<fleet>}:} (a hash tag: one Redis Cluster slot): {@code members} (a
 * set of replica names), {@code alive:<replica>} (its heartbeat: its demand as JSON,
 * expiring after the heartbeat TTL) and {@code held:<replica>} (a hash, endpoint key to
 * the slots it holds, with the same TTL). One script call per sync round does the
 * heartbeat, drops replicas whose heartbeat expired together with what they held, and
 * claims this replica's slots atomically.
 */
public final class RedisSlotLedger {

	@SuppressWarnings("rawtypes")
	private static final RedisScript<List> SYNC = script();

	private final StringRedisTemplate redis;

	private final String prefix;

	/**
	 * The ledger of one fleet.
	 * @param redis Redis
	 * @param fleet the fleet's name (replicas of one fleet share slots)
	 */
	public RedisSlotLedger(StringRedisTemplate redis, String fleet) {
		this.redis = redis;
		this.prefix = "tg:replicas:{" + fleet + "}:";
	}

	@SuppressWarnings("rawtypes")
	private static RedisScript<List> script() {
		try {
			return new DefaultRedisScript<>(
					new ClassPathResource("dev/tiergate/replicas/sync.lua").getContentAsString(StandardCharsets.UTF_8),
					List.class);
		}
		catch (IOException ex) {
			throw new UncheckedIOException("dev/tiergate/replicas/sync.lua is missing from the classpath", ex);
		}
	}

	/**
	 * The key prefix of this fleet.
	 * @return {@code tg:replicas:{<fleet>}:}
	 */
	public String prefix() {
		return this.prefix;
	}

	/**
	 * One endpoint's claim.
	 *
	 * @param endpoint the endpoint key
	 * @param want the slots wanted
	 * @param floor the slots this replica may be using until the new grant is in force
	 * (its current grant or its leases, whichever is larger)
	 * @param slots the endpoint's slots (0 when it does not accept requests)
	 */
	public record Claim(String endpoint, int want, int floor, int slots) {

	}

	/**
	 * A live replica as the ledger holds it.
	 *
	 * @param name its name
	 * @param heartbeatLeftMillis how long until its heartbeat expires
	 * @param demand its demand as it published it (JSON)
	 * @param held the slots it holds, per endpoint key
	 */
	public record Replica(String name, long heartbeatLeftMillis, String demand, Map<String, Integer> held) {

	}

	/**
	 * A sync round's outcome.
	 *
	 * @param grants the grant of each claim, in claim order
	 * @param replicas the live replicas (this one included), with what they hold after
	 * the claims
	 */
	public record Result(List<Integer> grants, List<Replica> replicas) {

	}

	/**
	 * Heartbeat, demand and claims of this replica, in one atomic step.
	 * @param replica this replica's name
	 * @param ttl the heartbeat TTL
	 * @param demand its demand (JSON)
	 * @param claims its claims
	 * @return grants and the live replicas
	 */
	public Result sync(String replica, Duration ttl, String demand, List<Claim> claims) {
		List<String> args = new ArrayList<>(4 + 4 * claims.size());
		args.add(this.prefix);
		args.add(replica);
		args.add(Long.toString(Math.max(1, ttl.toMillis())));
		args.add(demand);
		for (Claim claim : claims) {
			args.add(claim.endpoint());
			args.add(Integer.toString(Math.max(0, claim.want())));
			args.add(Integer.toString(Math.max(0, claim.floor())));
			args.add(Integer.toString(Math.max(0, claim.slots())));
		}
		List<?> result = this.redis.execute(SYNC, List.of(), args.toArray());
		if (result == null || result.size() != 2) {
			throw new IllegalStateException("The slot ledger script answered " + result);
		}
		List<Integer> grants = new ArrayList<>();
		for (Object grant : (List<?>) result.get(0)) {
			grants.add(((Number) grant).intValue());
		}
		List<Replica> replicas = new ArrayList<>();
		for (Object entry : (List<?>) result.get(1)) {
			List<?> fields = (List<?>) entry;
			Map<String, Integer> held = new LinkedHashMap<>();
			List<?> pairs = (List<?>) fields.get(3);
			for (int i = 0; i + 1 < pairs.size(); i += 2) {
				held.put((String) pairs.get(i), Integer.parseInt((String) pairs.get(i + 1)));
			}
			replicas.add(new Replica((String) fields.get(0), ((Number) fields.get(1)).longValue(),
					(String) fields.get(2), held));
		}
		return new Result(grants, replicas);
	}

	/**
	 * Takes a replica out of the fleet at once: what it held is free for the others.
	 * @param replica its name
	 */
	public void leave(String replica) {
		this.redis.delete(List.of(this.prefix + "alive:" + replica, this.prefix + "held:" + replica));
		this.redis.opsForSet().remove(this.prefix + "members", replica);
	}

}
