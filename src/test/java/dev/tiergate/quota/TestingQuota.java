package dev.tiergate.quota;

import java.time.Clock;
import java.time.Duration;
import java.util.Map;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * A {@link QuotaService} on a given Redis with default settings, for other modules'
 * tests.
 */
public final class TestingQuota {

	private TestingQuota() {
	}

	/**
	 * A quota service; close it after the test.
	 * @param redis the Redis to use
	 * @return the service
	 */
	public static QuotaService service(StringRedisTemplate redis) {
		QuotaProperties properties = new QuotaProperties(Duration.ofSeconds(30), Duration.ofSeconds(1), 3,
				Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofSeconds(1), Map.of(), 100_000, 256,
				Duration.ofMillis(5));
		return new QuotaService(redis, properties, Clock.systemUTC(), new SimpleMeterRegistry(),
				new QuotaBackendCircuit(3, Duration.ofSeconds(1), Clock.systemUTC(), new SimpleMeterRegistry()));
	}

}
