package dev.tiergate;

import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * The real Redis on 127.0.0.1:6379 for tests. Tests use database {@value #TEST_DATABASE},
 * so what they leave behind (tenants, usage, audit entries) never shows up in the
 * embedded default, which uses database 0. Tests without a Spring context share one
 * connection, closed when the JVM exits.
 */
public final class LocalRedis {

	/** The Redis database tests use. */
	public static final int TEST_DATABASE = 15;

	/**
	 * Command (and connection handshake) timeout of the tests that share the machine's
	 * Redis: under a loaded build machine the production 500ms let context starts fail
	 * while connecting.
	 */
	public static final String TEST_TIMEOUT = "5s";

	private static StringRedisTemplate template;

	private LocalRedis() {
	}

	/**
	 * A template on the local Redis.
	 * @return the shared template
	 */
	public static synchronized StringRedisTemplate template() {
		if (template == null) {
			RedisStandaloneConfiguration configuration = new RedisStandaloneConfiguration("127.0.0.1", 6379);
			configuration.setDatabase(TEST_DATABASE);
			LettuceConnectionFactory connections = new LettuceConnectionFactory(configuration);
			connections.afterPropertiesSet();
			connections.start();
			Runtime.getRuntime().addShutdownHook(new Thread(connections::destroy, "local-redis-close"));
			template = new StringRedisTemplate(connections);
		}
		return template;
	}

}
