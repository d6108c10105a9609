package dev.tiergate.batch;

import java.util.Properties;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.data.redis.core.RedisCallback;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * Whether Redis persists what batch work keeps there (files, queues, results), read with
 * {@code CONFIG GET appendonly} and {@code CONFIG GET save}: AOF, RDB snapshots, or
 * neither, in which case a Redis restart loses every unfinished batch. Always UP (a
 * missing persistence setting is an operator's warning, not a reason to stop serving);
 * {@code restartSafe} says which. Managed Redis services that disable {@code CONFIG}
 * report {@code unknown}.
 */
class RedisPersistenceHealth implements HealthIndicator {

	private final StringRedisTemplate redis;

	RedisPersistenceHealth(StringRedisTemplate redis) {
		this.redis = redis;
	}

	@Override
	public Health health() {
		Properties aof;
		Properties save;
		try {
			aof = this.redis.execute(
					(RedisCallback<Properties>) (connection) -> connection.serverCommands().getConfig("appendonly"));
			save = this.redis
				.execute((RedisCallback<Properties>) (connection) -> connection.serverCommands().getConfig("save"));
		}
		catch (RuntimeException ex) {
			return Health.up()
				.withDetail("persistence", "unknown")
				.withDetail("reason",
						"CONFIG GET is not allowed or Redis is unreachable: " + ex.getClass().getSimpleName())
				.build();
		}
		boolean appendOnly = "yes".equalsIgnoreCase(value(aof, "appendonly"));
		String snapshots = value(save, "save");
		boolean rdb = snapshots != null && !snapshots.isBlank();
		Health.Builder health = Health.up()
			.withDetail("aof", appendOnly)
			.withDetail("rdb", rdb ? snapshots : "off")
			.withDetail("restartSafe", appendOnly || rdb);
		if (!appendOnly) {
			health.withDetail("warning", rdb
					? "Only RDB snapshots: a Redis restart loses batch progress since the last snapshot (items run again, results written since are lost); turn on appendonly yes."
					: "No persistence: a Redis restart loses every file, batch and result; set appendonly yes (and appendfsync everysec).");
		}
		return health.build();
	}

	private static String value(Properties properties, String name) {
		if (properties == null) {
			return null;
		}
		String value = properties.getProperty(name);
		if (value == null && properties.size() == 1) {
			value = properties.values().iterator().next().toString();
		}
		return value;
	}

}
