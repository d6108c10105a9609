package dev.tiergate.replicas;

import java.net.CookieManager;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import dev.tiergate.FleetIntegrationTestSupport;
import dev.tiergate.fleet.SimulatedGpuFleet;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code GET /api/v1/replicas} and the Replicas page of the embedded default: one
 * replica, slots not shared, owning every slot of every pool.
 */
class ReplicasApiIntegrationTests extends FleetIntegrationTestSupport {

	private static final JsonMapper json = JsonMapper.builder().build();

	@Test
	void aSingleReplicaOwnsEverySlot() throws Exception {
		HttpResponse<String> response = get("/api/v1/replicas", basic("viewer", "viewer"));
		assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
		JsonNode fleet = json.readTree(response.body());
		assertThat(fleet.get("sharing").asBoolean()).isFalse();
		// The embedded default elects itself leader at start
		// (web.ReplicasLeaderConfiguration
		// joins cluster.Leadership to the view).
		assertThat(fleet.get("leader").asString()).isEqualTo(fleet.get("self").asString());
		assertThat(fleet.get("slots").get(SimulatedGpuFleet.LLAMA).asInt()).isEqualTo(20 * 8);
		assertThat(fleet.get("replicas")).singleElement().satisfies((replica) -> {
			assertThat(replica.get("self").asBoolean()).isTrue();
			assertThat(replica.get("name").asString()).isEqualTo(fleet.get("self").asString());
			JsonNode llama = replica.get("pools").get(SimulatedGpuFleet.LLAMA);
			assertThat(llama.get("ownedSlots").asInt()).isEqualTo(20 * 8);
			assertThat(llama.get("endpoints")).hasSize(20);
			assertThat(llama.get("demand").has("P0")).isTrue();
		});
	}

	@Test
	void theApiNeedsAnOperator() throws Exception {
		assertThat(get("/api/v1/replicas", null).statusCode()).isEqualTo(401);
	}

	@Test
	void theReplicasPageListsThisReplica() throws Exception {
		HttpClient browser = HttpClient.newBuilder().cookieHandler(new CookieManager()).build();
		Matcher csrf = Pattern.compile("name=\"_csrf\" value=\"([^\"]+)\"")
			.matcher(browser.send(HttpRequest.newBuilder(uri("/login")).build(), HttpResponse.BodyHandlers.ofString())
				.body());
		assertThat(csrf.find()).isTrue();
		browser.send(HttpRequest.newBuilder(uri("/login"))
			.header("Content-Type", "application/x-www-form-urlencoded")
			.POST(HttpRequest.BodyPublishers.ofString("username=viewer&password=viewer&_csrf=" + csrf.group(1)))
			.build(), HttpResponse.BodyHandlers.ofString());
		HttpResponse<String> page = browser.send(HttpRequest.newBuilder(uri("/replicas")).build(),
				HttpResponse.BodyHandlers.ofString());
		assertThat(page.statusCode()).isEqualTo(200);
		assertThat(page.body()).contains("<h1>Replicas</h1>", "this replica", "not shared",
				"data-pool=\"" + SimulatedGpuFleet.LLAMA + "\"");
	}

}
