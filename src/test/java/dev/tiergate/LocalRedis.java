package dev.tiergate;

import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * The real Redis on 127.0.0.1:6379 for tests that use it without a Spring context: one connection for the JVM,
 * closed when it exits.
 */
public final class LocalRedis {

	private static StringRedisTemplate template;

	private LocalRedis() {
	}

	/**
	 * A template on the local Redis.
	 * @return the shared template
	 */
	public static synchronized StringRedisTemplate template() {
		if (template == null) {
			LettuceConnectionFactory connections = new LettuceConnectionFactory(
					new RedisStandaloneConfiguration("127.0.0.1", 6379));
			connections.afterPropertiesSet();
			connections.start();
			Runtime.getRuntime().addShutdownHook(new Thread(connections::destroy, "local-redis-close"));
			template = new StringRedisTemplate(connections);
		}
		return template;
	}

}
