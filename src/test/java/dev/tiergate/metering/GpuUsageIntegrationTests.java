package dev.tiergate.metering;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import dev.tiergate.EmbeddedDefaults;
import dev.tiergate.FleetIntegrationTestSupport;
import dev.tiergate.fleet.SimulatedGpuFleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

/**
 * Tests for GPU-seconds in the usage that tenants and operators read, on the embedded
 * fleet: {@code /v1/usage}, the tenant usage API and its CSV.
 */
class GpuUsageIntegrationTests extends FleetIntegrationTestSupport {

	private static final JsonMapper json = JsonMapper.builder().build();

	private static final String CI = "Bearer " + EmbeddedDefaults.CI_TOKEN;

	@Autowired
	private GpuUsageWriter writer;

	@Autowired
	private GpuMeter meter;

	/**
	 * Writes until the tenants' leases have all ended (the proxy closes its slot after
	 * the answer).
	 */
	private void flushWhenDone(String... tenants) {
		await().atMost(Duration.ofSeconds(10)).until(() -> {
			this.writer.flush();
			return Arrays.stream(tenants).allMatch((tenant) -> this.meter.running(tenant) == 0);
		});
	}

	private final String mine = "gm-" + UUID.randomUUID().toString().substring(0, 8);

	private final String theirs = "gt-" + UUID.randomUUID().toString().substring(0, 8);

	private String createTenant(String tenantId) throws Exception {
		HttpResponse<String> created = send("POST", "/api/v1/tenants", CI, """
				{"id":"%s","displayName":"Metering","allowedTiers":["P0","P1","P2"],"defaultTier":"P1","weight":1,
				 "limits":{}}""".formatted(tenantId));
		assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
		HttpResponse<String> key = send("POST", "/api/v1/tenants/" + tenantId + "/keys", CI, null);
		assertThat(key.statusCode()).as(key.body()).isEqualTo(201);
		return json.readTree(key.body()).get("key").asString();
	}

	private double gpuSeconds(String key) throws Exception {
		return json.readTree(get("/v1/usage", "Bearer " + key).body()).get("totals").get("gpu_seconds").asDouble();
	}

	@Test
	void aTenantSeesOnlyItsOwnGpuSeconds() throws Exception {
		String myKey = createTenant(this.mine);
		String theirKey = createTenant(this.theirs);
		assertThat(post("/v1/chat/completions", myKey, chat(SimulatedGpuFleet.LLAMA, 4)).statusCode()).isEqualTo(200);
		assertThat(post("/v1/chat/completions", theirKey, chat(SimulatedGpuFleet.LLAMA, 40)).statusCode())
			.isEqualTo(200);
		flushWhenDone(this.mine, this.theirs);

		JsonNode my = json.readTree(get("/v1/usage", "Bearer " + myKey).body());
		assertThat(my.get("tenant").asString()).isEqualTo(this.mine);
		double myTotal = my.get("totals").get("gpu_seconds").asDouble();
		double theirTotal = gpuSeconds(theirKey);
		assertThat(myTotal).isPositive();
		// The default price sheet's A100 at $2.74 an hour, the embedded fleet's GPUs.
		assertThat(my.get("totals").get("gpu_cost_usd").asDouble()).isCloseTo(myTotal * 2.74 / 3600, within(2e-6));
		assertThat(theirTotal).isPositive();
		assertThat(my.get("data")).singleElement()
			.satisfies((row) -> assertThat(row.get("gpu_seconds").asDouble()).isEqualTo(myTotal));
		// The other tenant's next request adds to its own figure only.
		assertThat(post("/v1/chat/completions", theirKey, chat(SimulatedGpuFleet.LLAMA, 20)).statusCode())
			.isEqualTo(200);
		flushWhenDone(this.theirs);
		assertThat(gpuSeconds(myKey)).isEqualTo(myTotal);
		assertThat(gpuSeconds(theirKey)).isGreaterThan(theirTotal);

		HttpResponse<String> csv = send("GET", "/api/v1/tenants/" + this.mine + "/usage.csv", basic("viewer", "viewer"),
				null);
		assertThat(csv.body()).startsWith(
				"day,tier,model,requests,prompt_tokens,completion_tokens,gpu_seconds,gpu_cost_usd,hosted_requests\r\n")
			.contains(",P1," + SimulatedGpuFleet.LLAMA + ",1,");
		JsonNode api = json.readTree(send("GET", "/api/v1/tenants/" + this.mine + "/usage", CI, null).body());
		assertThat(api.get("totals").get("gpu_seconds").asDouble()).isEqualTo(myTotal);
	}

}
