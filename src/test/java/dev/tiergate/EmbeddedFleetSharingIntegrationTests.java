package dev.tiergate;

import java.net.CookieManager;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import dev.tiergate.fleet.SimulatedGpuFleet;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests that the embedded fleet's device plugin ConfigMap holds the sharing profile its
 * nodes run, so the GPU sharing page and API show the real picture from the start.
 */
class EmbeddedFleetSharingIntegrationTests extends FleetIntegrationTestSupport {

	private static final String VIEWER = basic("viewer", "viewer");

	@Test
	void sharingApiShowsTheSeededMpsProfileOnEveryNodeWithoutDrift() throws Exception {
		HttpResponse<String> profiles = send("GET", "/api/v1/sharing/profiles", VIEWER, null);
		assertThat(profiles.statusCode()).isEqualTo(200);
		JsonNode seeded = null;
		for (JsonNode profile : JsonMapper.shared().readTree(profiles.body())) {
			if (SimulatedGpuFleet.DEFAULT_PROFILE.equals(profile.get("name").asString())) {
				seeded = profile;
			}
		}
		assertThat(seeded).as(profiles.body()).isNotNull();
		assertThat(seeded.get("profile").get("strategy").asString()).isEqualTo("mps");
		assertThat(seeded.get("profile").get("replicas").asInt()).isEqualTo(4);
		assertThat(seeded.get("nodes").toString()).contains("gpu-node-1").contains("gpu-node-2");
		assertThat(seeded.get("yaml").asString()).contains("mps:").contains("replicas: 4");

		HttpResponse<String> nodes = send("GET", "/api/v1/sharing/nodes", VIEWER, null);
		assertThat(nodes.statusCode()).isEqualTo(200);
		assertThat(JsonMapper.shared().readTree(nodes.body())).hasSize(2).allSatisfy((node) -> {
			assertThat(node.get("profile").asString()).isEqualTo(SimulatedGpuFleet.DEFAULT_PROFILE);
			assertThat(node.get("drift").asBoolean()).as(node.toString()).isFalse();
		});
	}

	@Test
	void sharingPageShowsTheSeededProfile() throws Exception {
		HttpClient browser = HttpClient.newBuilder().cookieHandler(new CookieManager()).build();
		Matcher csrf = Pattern.compile("name=\"_csrf\" value=\"([^\"]+)\"")
			.matcher(browser.send(HttpRequest.newBuilder(uri("/login")).build(), HttpResponse.BodyHandlers.ofString())
				.body());
		assertThat(csrf.find()).isTrue();
		HttpResponse<String> login = browser.send(HttpRequest.newBuilder(uri("/login"))
			.header("Content-Type", "application/x-www-form-urlencoded")
			.POST(HttpRequest.BodyPublishers.ofString("username=viewer&password=viewer&_csrf=" + csrf.group(1)))
			.build(), HttpResponse.BodyHandlers.ofString());
		assertThat(login.statusCode()).isEqualTo(302);
		HttpResponse<String> page = browser.send(HttpRequest.newBuilder(uri("/cluster/sharing")).build(),
				HttpResponse.BodyHandlers.ofString());
		assertThat(page.statusCode()).isEqualTo(200);
		assertThat(page.body()).contains("data-profile=\"" + SimulatedGpuFleet.DEFAULT_PROFILE + "\"")
			.doesNotContain("No profiles in the device plugin's ConfigMap yet")
			.contains("in sync");
	}

}
