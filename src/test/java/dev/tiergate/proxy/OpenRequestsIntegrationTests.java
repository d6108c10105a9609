package dev.tiergate.proxy;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.test.context.TestPropertySource;

import dev.tiergate.EmbeddedDefaults;
import dev.tiergate.FleetIntegrationTestSupport;
import dev.tiergate.fleet.SimulatedGpuFleet;
import dev.tiergate.routing.EndpointRegistry;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Tests for the replica's limit on open requests
 * ({@code tiergate.proxy.max-open-requests}, here 4, so that P1 and P2 may hold 2 of them
 * and P0 all 4): beyond a tier's limit a request gets 503 {@code replica_full} at once,
 * P0 still gets through, and every way a request ends gives its place back.
 */
@TestPropertySource(properties = "tiergate.proxy.max-open-requests=4")
class OpenRequestsIntegrationTests extends FleetIntegrationTestSupport {

	private static final JsonMapper json = JsonMapper.builder().build();

	@Autowired
	private OpenRequests open;

	@Autowired
	private EndpointRegistry registry;

	@Value("${local.management.port}")
	private int managementPort;

	@BeforeEach
	void fleetIsKnownAndNothingIsOpen() {
		await().atMost(Duration.ofSeconds(10)).until(() -> !this.registry.pool(SimulatedGpuFleet.LLAMA).isEmpty());
		await().atMost(Duration.ofSeconds(10)).until(() -> this.open.open() == 0);
	}

	@Test
	void beyondItsTiersLimitARequestIsRefusedAtOnceAndP0StillGetsThrough() throws Exception {
		List<InputStream> streams = new ArrayList<>();
		try {
			for (int i = 0; i < 2; i++) {
				streams.add(openStream("P2"));
			}
			assertThat(this.open.open()).isEqualTo(2);
			for (String tier : new String[] { "P2", "P1" }) {
				HttpResponse<String> refused = post("/v1/chat/completions", EmbeddedDefaults.ACME_KEY,
						chat(SimulatedGpuFleet.LLAMA, 1), "X-Tiergate-Priority", tier);
				assertThat(refused.statusCode()).as(refused.body()).isEqualTo(503);
				assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");
				JsonNode error = json.readTree(refused.body()).get("error");
				assertThat(error.get("code").asString()).isEqualTo("replica_full");
				assertThat(error.get("message").asString()).contains("tier " + tier).contains("another replica");
			}
			HttpResponse<String> realTime = post("/v1/chat/completions", EmbeddedDefaults.ACME_KEY,
					chat(SimulatedGpuFleet.LLAMA, 1), "X-Tiergate-Priority", "P0");
			assertThat(realTime.statusCode()).as(realTime.body()).isEqualTo(200);
			assertThat(exposition())
				.anyMatch((line) -> line.startsWith("tiergate_proxy_requests_total{")
						&& line.contains("outcome=\"replica_full\"") && line.contains("priority=\"P2\""))
				.anyMatch((line) -> line.startsWith("tiergate_proxy_open_requests_limit{") && line.endsWith(" 4.0"))
				.anyMatch((line) -> line.startsWith("tiergate_proxy_open_requests{") && line.endsWith(" 2.0"));
		}
		finally {
			for (InputStream stream : streams) {
				stream.close();
			}
		}
		// A client that leaves gives its place back (its upstream call is aborted).
		await().atMost(Duration.ofSeconds(15)).until(() -> this.open.open() == 0);
		assertThat(post("/v1/chat/completions", EmbeddedDefaults.ACME_KEY, chat(SimulatedGpuFleet.LLAMA, 1),
				"X-Tiergate-Priority", "P2")
			.statusCode()).isEqualTo(200);
	}

	@Test
	void requestsRefusedAfterTheyOpenedGiveTheirPlaceBack() throws Exception {
		for (int i = 0; i < 6; i++) {
			HttpResponse<String> tooLong = post("/v1/chat/completions", EmbeddedDefaults.ACME_KEY, """
					{"model":"%s","max_tokens":99999999,"messages":[{"role":"user","content":"hi"}]}"""
				.formatted(SimulatedGpuFleet.LLAMA), "X-Tiergate-Priority", "P2");
			assertThat(tooLong.statusCode()).as(tooLong.body()).isEqualTo(400);
		}
		assertThat(this.open.open()).isZero();
		HttpResponse<String> served = post("/v1/chat/completions", EmbeddedDefaults.ACME_KEY,
				chat(SimulatedGpuFleet.LLAMA, 1), "X-Tiergate-Priority", "P2");
		assertThat(served.statusCode()).as(served.body()).isEqualTo(200);
		// Closed once the servlet returns, just after the answer's last byte.
		await().atMost(Duration.ofSeconds(5)).until(() -> this.open.open() == 0);
	}

	private InputStream openStream(String tier) throws Exception {
		String body = "{\"model\":\"" + SimulatedGpuFleet.LLAMA + "\",\"stream\":true,\"max_tokens\":4000"
				+ ",\"messages\":[{\"role\":\"user\",\"content\":\"Tell me a long story\"}]}";
		HttpRequest request = HttpRequest.newBuilder(uri("/v1/chat/completions"))
			.header("Authorization", "Bearer " + EmbeddedDefaults.ACME_KEY)
			.header("Content-Type", "application/json")
			.header("X-Tiergate-Priority", tier)
			.POST(HttpRequest.BodyPublishers.ofString(body))
			.build();
		HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
		assertThat(response.statusCode()).isEqualTo(200);
		// The first event: the stream is open and counted.
		BufferedReader reader = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8), 1);
		String line;
		while ((line = reader.readLine()) != null && !line.startsWith("data: ")) {
			// headers of the event stream
		}
		assertThat(line).isNotNull();
		return response.body();
	}

	private List<String> exposition() throws Exception {
		return http
			.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + this.managementPort + "/actuator/prometheus"))
				.timeout(Duration.ofSeconds(10))
				.build(), HttpResponse.BodyHandlers.ofString())
			.body()
			.lines()
			.toList();
	}

}
