package dev.tiergate;

import java.util.Properties;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.connection.lettuce.LettucePoolingClientConfiguration;
import org.springframework.data.redis.core.RedisCallback;
import org.springframework.data.redis.core.StringRedisTemplate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for the application's Redis connections: pipelined writes (the request log's, GPU
 * usage, file chunks) borrow pooled connections instead of opening one each, which cost a
 * TCP connect, {@code HELLO} and {@code SELECT} per write (docs/benchmarks.md).
 */
class RedisConnectionsIntegrationTests extends FleetIntegrationTestSupport {

	@Autowired
	private RedisConnectionFactory connections;

	@Autowired
	private StringRedisTemplate redis;

	private static long connectionsReceived() {
		Properties stats = LocalRedis.template()
			.execute((RedisCallback<Properties>) (connection) -> connection.serverCommands().info("stats"));
		return Long.parseLong(stats.getProperty("total_connections_received"));
	}

	@Test
	void pipelinesBorrowPooledConnections() {
		assertThat(this.connections).isInstanceOf(LettuceConnectionFactory.class);
		assertThat(((LettuceConnectionFactory) this.connections).getClientConfiguration())
			.isInstanceOf(LettucePoolingClientConfiguration.class);
		// Warm the pool, then count the connections Redis accepts during 50 pipelines.
		this.redis.executePipelined((RedisCallback<Object>) (connection) -> connection.ping());
		long before = connectionsReceived();
		for (int i = 0; i < 50; i++) {
			this.redis.executePipelined((RedisCallback<Object>) (connection) -> {
				connection.ping();
				connection.ping();
				return null;
			});
		}
		long opened = connectionsReceived() - before;
		// Other tests' application contexts may share this Redis; 50 pipelines without a
		// pool opened 50.
		assertThat(opened).as("connections opened by 50 pipelines").isLessThan(10);
	}

}
