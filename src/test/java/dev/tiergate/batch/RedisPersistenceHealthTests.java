package dev.tiergate.batch;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Tests for {@link RedisPersistenceHealth} against {@code redis-server}s of the test's
 * own, started with and without persistence.
 */
class RedisPersistenceHealthTests {

	private static Health healthOf(String... args) throws Exception {
		int port;
		try (ServerSocket socket = new ServerSocket(0)) {
			port = socket.getLocalPort();
		}
		Path dir = Files.createTempDirectory("tiergate-redis-health");
		List<String> command = new ArrayList<>(List.of("redis-server", "--port", Integer.toString(port), "--bind",
				"127.0.0.1", "--dir", dir.toString()));
		command.addAll(List.of(args));
		Process process = new ProcessBuilder(command).redirectErrorStream(true)
			.redirectOutput(dir.resolve("log").toFile())
			.start();
		LettuceConnectionFactory connections = null;
		try {
			await().atMost(Duration.ofSeconds(10)).until(() -> {
				try (Socket socket = new Socket("127.0.0.1", port)) {
					return true;
				}
				catch (IOException ex) {
					return false;
				}
			});
			connections = new LettuceConnectionFactory(new RedisStandaloneConfiguration("127.0.0.1", port));
			connections.afterPropertiesSet();
			connections.start();
			return new RedisPersistenceHealth(new StringRedisTemplate(connections)).health();
		}
		finally {
			if (connections != null) {
				connections.destroy();
			}
			process.destroyForcibly().waitFor();
		}
	}

	@Test
	void appendOnlyRedisIsRestartSafe() throws Exception {
		Health health = healthOf("--appendonly", "yes", "--save", "");
		assertThat(health.getStatus()).isEqualTo(Status.UP);
		assertThat(health.getDetails()).containsEntry("aof", true)
			.containsEntry("rdb", "off")
			.containsEntry("restartSafe", true)
			.doesNotContainKey("warning");
	}

	@Test
	void snapshotsOnlyAreRestartSafeWithAWarning() throws Exception {
		Health health = healthOf("--appendonly", "no", "--save", "60 1");
		assertThat(health.getDetails()).containsEntry("aof", false)
			.containsEntry("rdb", "60 1")
			.containsEntry("restartSafe", true);
		assertThat((String) health.getDetails().get("warning")).contains("appendonly yes");
	}

	@Test
	void redisWithoutPersistenceIsNotRestartSafe() throws Exception {
		Health health = healthOf("--appendonly", "no", "--save", "");
		assertThat(health.getStatus()).isEqualTo(Status.UP);
		assertThat(health.getDetails()).containsEntry("restartSafe", false).containsEntry("rdb", "off");
		assertThat((String) health.getDetails().get("warning")).contains("No persistence");
	}

	@Test
	void redisThatRefusesConfigIsUnknown() throws Exception {
		Health health = healthOf("--appendonly", "no", "--rename-command", "CONFIG", "\"\"");
		assertThat(health.getDetails()).containsEntry("persistence", "unknown");
	}

}
