package dev.tiergate.proxy;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.test.context.TestPropertySource;

import dev.tiergate.EmbeddedDefaults;
import dev.tiergate.FleetIntegrationTestSupport;
import dev.tiergate.fleet.SimulatedGpuFleet;
import jakarta.servlet.ServletContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Tests for {@code tiergate.proxy.observe-requests}: on, the completions leave their lane
 * for the whole filter chain, so that Spring's {@code http.server.requests} observation
 * times them too, and they are still served behind the tenant key.
 */
@TestPropertySource(properties = "tiergate.proxy.observe-requests=true")
class ObservedRequestsIntegrationTests extends FleetIntegrationTestSupport {

	@Autowired
	private ServletContext servletContext;

	@Value("${local.management.port}")
	private int managementPort;

	@Test
	void completionsAreObservedByHttpServerRequestsAndStillNeedAKey() throws Exception {
		assertThat(this.servletContext.getFilterRegistration("completionsLane")).isNull();
		assertThat(post("/v1/chat/completions", null, chat(SimulatedGpuFleet.LLAMA, 1)).statusCode()).isEqualTo(401);
		await().atMost(Duration.ofSeconds(20))
			.until(() -> post("/v1/chat/completions", EmbeddedDefaults.ACME_KEY, chat(SimulatedGpuFleet.LLAMA, 1))
				.statusCode() == 200);
		String exposition = http
			.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + this.managementPort + "/actuator/prometheus"))
				.timeout(Duration.ofSeconds(10))
				.build(), HttpResponse.BodyHandlers.ofString())
			.body();
		assertThat(
				exposition.lines()
					.filter((line) -> line.startsWith("http_server_requests_seconds_count{")
							&& line.contains("uri=\"/v1/chat/completions\"") && line.contains("status=\"200\"")))
			.isNotEmpty();
	}

}
