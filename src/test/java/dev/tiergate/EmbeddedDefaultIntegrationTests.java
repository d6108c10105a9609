package dev.tiergate;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

import dev.tiergate.fleet.SimulatedGpuFleet;
import redis.embedded.core.ExecutableProvider;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link TestTiergateApplication}, the embedded default, on a machine without a
 * Redis: it starts its own ({@link EmbeddedRedis}) and says so.
 */
@ExtendWith(OutputCaptureExtension.class)
class EmbeddedDefaultIntegrationTests {

	@Test
	void readsTheConfiguredRedisAddressLikeSpringBoot() {
		assertThat(EmbeddedRedis.configuredAddress(new String[0]).getPort()).isEqualTo(6379);
		assertThat(EmbeddedRedis.configuredAddress(new String[0]).getHostString()).isEqualTo("127.0.0.1");
		var address = EmbeddedRedis.configuredAddress(
				new String[] { "--spring.data.redis.host=redis.example", "--spring.data.redis.port=7001" });
		assertThat(address.getHostString()).isEqualTo("redis.example");
		assertThat(address.getPort()).isEqualTo(7001);
	}

	@Test
	void startsNoRedisWhenTheConfiguredOneAnswers() {
		assertThat(EmbeddedRedis.startIfUnreachable(new String[] { "--spring.data.redis.port=6379" })).isNull();
	}

	@Test
	void runsTheRedisBinaryShippedInsideEmbeddedRedisWhenNoneIsOnThePath() {
		try (EmbeddedRedis redis = EmbeddedRedis.start(ExecutableProvider.newJarResourceProvider(), "jar", "x:1")) {
			assertThat(EmbeddedRedis.answers(java.net.InetSocketAddress.createUnresolved("127.0.0.1", redis.port())))
				.isTrue();
		}
	}

	@Test
	void startsItsOwnRedisWhenNoneAnswersAtTheConfiguredAddress(CapturedOutput output) throws Exception {
		int unreachable = freePort();
		ConfigurableApplicationContext context = TestTiergateApplication.run(SimulatedGpuFleet.shared().apiServerUrl(),
				"--server.port=0", "--management.server.port=0", "--spring.data.redis.port=" + unreachable);
		int redisPort;
		try {
			redisPort = context.getEnvironment().getRequiredProperty("spring.data.redis.port", Integer.class);
			assertThat(redisPort).isNotEqualTo(unreachable).isNotEqualTo(6379);
			assertThat(EmbeddedRedis.answers(java.net.InetSocketAddress.createUnresolved("127.0.0.1", redisPort)))
				.isTrue();
			assertThat(output).contains("no Redis answered at 127.0.0.1:" + unreachable)
				.contains("Redis           no Redis answered")
				.contains("on 127.0.0.1:" + redisPort);
			// The demo tenant was seeded into that Redis, and its key works.
			int port = ((WebServerApplicationContext) context).getWebServer().getPort();
			HttpResponse<String> models = HttpClient.newHttpClient()
				.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/models"))
					.header("Authorization", "Bearer " + EmbeddedDefaults.ACME_KEY)
					.timeout(Duration.ofSeconds(10))
					.build(), HttpResponse.BodyHandlers.ofString());
			assertThat(models.statusCode()).as(models.body()).isEqualTo(200);
			// Spill of the Qwen pool goes to the simulated hosted API; its key is shown
			// nowhere.
			HttpResponse<String> spill = HttpClient.newHttpClient()
				.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/spill"))
					.header("Authorization", FleetIntegrationTestSupport.basic("viewer", "viewer"))
					.timeout(Duration.ofSeconds(10))
					.build(), HttpResponse.BodyHandlers.ofString());
			assertThat(spill.statusCode()).as(spill.body()).isEqualTo(200);
			assertThat(spill.body()).contains("hosted-qwen")
				.contains("\"monthlyCap\":50")
				.doesNotContain("sk-embedded");
		}
		finally {
			context.close();
			EmbeddedRedis.stopRunning();
		}
		assertThat(EmbeddedRedis.answers(java.net.InetSocketAddress.createUnresolved("127.0.0.1", redisPort)))
			.isFalse();
	}

	private static int freePort() throws Exception {
		try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
			return socket.getLocalPort();
		}
	}

}
