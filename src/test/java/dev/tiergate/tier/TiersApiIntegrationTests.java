package dev.tiergate.tier;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import dev.tiergate.EmbeddedDefaults;
import dev.tiergate.FleetIntegrationTestSupport;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@code /api/v1/tiers} and {@code /api/v1/dispatch/queues}.
 */
class TiersApiIntegrationTests extends FleetIntegrationTestSupport {

	private static final JsonMapper json = JsonMapper.builder().build();

	@Autowired
	private Tiers tiers;

	@AfterEach
	void restoreDefaults() {
		this.tiers.update(java.util.Map.of(Tier.P0, override(TierProperties.DEFAULTS.get(Tier.P0)), Tier.P1,
				override(TierProperties.DEFAULTS.get(Tier.P1)), Tier.P2,
				override(TierProperties.DEFAULTS.get(Tier.P2))));
	}

	private static TierProperties.Override override(TierDefinition d) {
		return new TierProperties.Override(d.reservedShare(), d.maxQueueDepth(), d.maxQueueWait(), d.mayPreempt(),
				d.borrow(), new TierProperties.PriorityClassOverride(d.priorityClass().name(),
						d.priorityClass().value(), d.priorityClass().preemptionPolicy()),
				d.reservePlacement(), d.borrowPerEndpoint());
	}

	private HttpResponse<String> put(String body, String authorization) throws Exception {
		return http.send(HttpRequest.newBuilder(uri("/api/v1/tiers"))
			.header("Authorization", authorization)
			.header("Content-Type", "application/json")
			.PUT(HttpRequest.BodyPublishers.ofString(body))
			.build(), HttpResponse.BodyHandlers.ofString());
	}

	@Test
	void showsTheDefaults() throws Exception {
		HttpResponse<String> response = get("/api/v1/tiers", basic("viewer", "viewer"));
		assertThat(response.statusCode()).isEqualTo(200);
		JsonNode body = json.readTree(response.body());
		assertThat(body.at("/P0/reservedShare").asDouble()).isEqualTo(0.30);
		assertThat(body.at("/P0/maxQueueWait").asString()).isEqualTo("PT2S");
		assertThat(body.at("/P0/mayPreempt/0").asString()).isEqualTo("P2");
		assertThat(body.at("/P0/priorityClass/name").asString()).isEqualTo("realtime-inference");
		assertThat(body.at("/P0/priorityClass/value").asLong()).isEqualTo(1_000_000);
		assertThat(body.at("/P2/priorityClass/preemptionPolicy").asString()).isEqualTo("Never");
		assertThat(body.at("/P2/borrow").asBoolean()).isTrue();
	}

	@Test
	void aPartialPutChangesOnlyWhatItNames() throws Exception {
		HttpResponse<String> response = put("{\"P0\":{\"reservedShare\":0.4,\"maxQueueWait\":\"PT3S\"}}",
				"Bearer " + EmbeddedDefaults.CI_TOKEN);
		assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
		JsonNode body = json.readTree(response.body());
		assertThat(body.at("/P0/reservedShare").asDouble()).isEqualTo(0.4);
		assertThat(body.at("/P0/maxQueueWait").asString()).isEqualTo("PT3S");
		assertThat(body.at("/P0/maxQueueDepth").asInt()).isEqualTo(1000);
		assertThat(this.tiers.get(Tier.P0).reservedShare()).isEqualTo(0.4);
		assertThat(this.audit.entries("tier", null, null, 1)).singleElement().satisfies((entry) -> {
			assertThat(entry.after()).contains("\"reservedShare\":0.4");
			assertThat(entry.before()).contains("\"reservedShare\":0.3");
		});
	}

	@Autowired
	private dev.tiergate.audit.AuditLog audit;

	@Test
	void p0sReserveMovesToWholeEndpointsAndBack() throws Exception {
		HttpResponse<String> response = put("{\"P0\":{\"reservePlacement\":\"endpoints\",\"borrowPerEndpoint\":1}}",
				"Bearer " + EmbeddedDefaults.CI_TOKEN);
		assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
		JsonNode body = json.readTree(response.body());
		assertThat(body.at("/P0/reservePlacement").asString()).isEqualTo("endpoints");
		assertThat(body.at("/P0/borrowPerEndpoint").asInt()).isEqualTo(1);
		assertThat(body.at("/P2/reservePlacement").asString()).isEqualTo("slots");
		assertThat(this.tiers.get(Tier.P0).reservePlacement()).isEqualTo(ReservePlacement.ENDPOINTS);
		response = put("{\"P0\":{\"reservePlacement\":\"SLOTS\"}}", "Bearer " + EmbeddedDefaults.CI_TOKEN);
		assertThat(json.readTree(response.body()).at("/P0/reservePlacement").asString()).isEqualTo("slots");
	}

	@Test
	void viewersMayNotChangeTiers() throws Exception {
		assertThat(put("{\"P0\":{\"reservedShare\":0.4}}", basic("viewer", "viewer")).statusCode()).isEqualTo(403);
		assertThat(this.tiers.get(Tier.P0).reservedShare()).isEqualTo(0.30);
	}

	@Test
	void invalidChangesAre400NamingTheFieldAndChangeNothing() throws Exception {
		String[][] cases = { { "{\"P0\":{\"reservedShare\":1.5}}", "P0.reservedShare" },
				{ "{\"P0\":{\"reservedShare\":0.6},\"P1\":{\"reservedShare\":0.5}}", "reservedShare" },
				{ "{\"P1\":{\"mayPreempt\":[\"P1\"]}}", "P1.mayPreempt" },
				{ "{\"P2\":{\"mayPreempt\":[\"P0\"]}}", "P2.mayPreempt" },
				{ "{\"P1\":{\"maxQueueWait\":\"PT0S\"}}", "P1.maxQueueWait" },
				{ "{\"P1\":{\"maxQueueWait\":\"soon\"}}", "P1.maxQueueWait" },
				{ "{\"P1\":{\"maxQueueDepth\":0}}", "P1.maxQueueDepth" }, { "{\"P3\":{\"borrow\":true}}", "P3" },
				{ "{\"P1\":{\"colour\":\"red\"}}", "P1.colour" }, { "{\"P1\":{\"borrow\":\"yes\"}}", "P1.borrow" },
				{ "{\"P0\":{\"priorityClass\":{\"value\":2000000000}}}", "P0.priorityClass.value" },
				{ "{\"P0\":{\"priorityClass\":{\"name\":\"system-node-critical\"}}}", "P0.priorityClass.name" },
				{ "{\"P2\":{\"priorityClass\":{\"preemptionPolicy\":\"Sometimes\"}}}",
						"P2.priorityClass.preemptionPolicy" },
				{ "{\"P0\":{\"reservePlacement\":\"gpus\"}}", "P0.reservePlacement" },
				{ "{\"P0\":{\"reservePlacement\":1}}", "P0.reservePlacement" },
				{ "{\"P0\":{\"borrowPerEndpoint\":-1}}", "P0.borrowPerEndpoint" },
				{ "{\"P0\":{\"borrowPerEndpoint\":1.5}}", "P0.borrowPerEndpoint" }, { "[1,2]", "body" } };
		for (String[] c : cases) {
			HttpResponse<String> response = put(c[0], "Bearer " + EmbeddedDefaults.CI_TOKEN);
			assertThat(response.statusCode()).as(c[0]).isEqualTo(400);
			assertThat(response.headers().firstValue("Content-Type").orElseThrow())
				.startsWith("application/problem+json");
			JsonNode problem = json.readTree(response.body());
			assertThat(problem.get("field").asString()).as(c[0]).isEqualTo(c[1]);
			assertThat(problem.get("detail").asString()).as(c[0]).isNotBlank();
		}
		assertThat(put("{\"P0\": ", "Bearer " + EmbeddedDefaults.CI_TOKEN).statusCode()).isEqualTo(400);
		assertThat(this.tiers.all()).isEqualTo(TierProperties.DEFAULTS);
	}

	@Test
	void queuesShowEveryPoolAndTier() throws Exception {
		post("/v1/chat/completions", EmbeddedDefaults.ACME_KEY, chat(dev.tiergate.fleet.SimulatedGpuFleet.LLAMA, 2));
		HttpResponse<String> response = get("/api/v1/dispatch/queues", basic("viewer", "viewer"));
		assertThat(response.statusCode()).isEqualTo(200);
		JsonNode pools = json.readTree(response.body()).get("pools");
		JsonNode llama = null;
		for (JsonNode pool : pools) {
			if (pool.get("pool").asString().equals(dev.tiergate.fleet.SimulatedGpuFleet.LLAMA)) {
				llama = pool;
			}
		}
		assertThat(llama).isNotNull();
		assertThat(llama.get("slots").asInt()).isEqualTo(160);
		assertThat(llama.at("/tiers/P0/reserved").asInt()).isEqualTo(48);
		assertThat(llama.at("/tiers/P1/admitted").asLong()).isPositive();
		assertThat(llama.at("/tiers/P1/tenants/0/tenant").asString()).isNotBlank();
	}

}
