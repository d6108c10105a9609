package dev.tiergate.quota;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.Test;

import dev.tiergate.EmbeddedDefaults;
import dev.tiergate.FleetIntegrationTestSupport;
import dev.tiergate.fleet.SimulatedGpuFleet;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link TenantsApiController}, {@link UsageApiController} and the quota on the
 * request path, with the whole application, the real Redis and the simulated fleet.
 */
class TenantsApiIntegrationTests extends FleetIntegrationTestSupport {

	static final JsonMapper json = JsonMapper.builder().build();

	static final String CI = "Bearer " + EmbeddedDefaults.CI_TOKEN;

	private final String id = "it-" + UUID.randomUUID().toString().substring(0, 8);

	/** This class's REST helpers, aimed at another test's application. */
	static TenantsApiIntegrationTests on(int port) {
		TenantsApiIntegrationTests helper = new TenantsApiIntegrationTests();
		helper.port = port;
		return helper;
	}

	String createTenant(String tenantId, String limits) throws Exception {
		HttpResponse<String> created = send("POST", "/api/v1/tenants", CI, """
				{"id":"%s","displayName":"Integration","allowedTiers":["P0","P1","P2"],"defaultTier":"P1","weight":2,
				 "limits":%s}""".formatted(tenantId, limits));
		assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
		HttpResponse<String> key = send("POST", "/api/v1/tenants/" + tenantId + "/keys", CI, null);
		assertThat(key.statusCode()).as(key.body()).isEqualTo(201);
		return json.readTree(key.body()).get("key").asString();
	}

	static void assertProblem(HttpResponse<String> response, int status, String field) {
		assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
		assertThat(response.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/problem+json");
		JsonNode problem = json.readTree(response.body());
		assertThat(problem.get("status").asInt()).isEqualTo(status);
		assertThat(problem.get("detail").asString()).isNotBlank().doesNotContain("Exception");
		if (field != null) {
			assertThat(problem.get("field").asString()).isEqualTo(field);
		}
	}

	@Test
	void batchTierAndEnqueuedTokensAreTenantSettingsWithDefaultsAndChecks() throws Exception {
		createTenant(this.id, "{\"enqueuedTokens\":1000000}");
		JsonNode tenant = json.readTree(send("GET", "/api/v1/tenants/" + this.id, CI, null).body());
		assertThat(tenant.get("batchTier").asString()).isEqualTo("P2");
		assertThat(tenant.get("limits").get("enqueuedTokens").asLong()).isEqualTo(1_000_000);
		assertProblem(send("PUT", "/api/v1/tenants/" + this.id, CI, """
				{"allowedTiers":["P0","P1"],"batchTier":"P2"}"""), 400, "batchTier");
		assertProblem(send("PUT", "/api/v1/tenants/" + this.id, CI, """
				{"allowedTiers":["P1","P2"],"limits":{"enqueuedTokens":0}}"""), 400, "limits.enqueuedTokens");
		HttpResponse<String> updated = send("PUT", "/api/v1/tenants/" + this.id, CI, """
				{"allowedTiers":["P0","P1"]}""");
		assertThat(updated.statusCode()).as(updated.body()).isEqualTo(200);
		assertThat(json.readTree(updated.body()).get("batchTier").asString()).isEqualTo("P1");
		send("DELETE", "/api/v1/tenants/" + this.id, CI, null);
	}

	@Test
	void operatorsCreateReadUpdateAndDeleteTenants() throws Exception {
		String key = createTenant(this.id, "{\"requestsPerMinute\":100}");
		JsonNode tenant = json
			.readTree(send("GET", "/api/v1/tenants/" + this.id, basic("viewer", "viewer"), null).body());
		assertThat(tenant.get("displayName").asString()).isEqualTo("Integration");
		assertThat(tenant.get("weight").asInt()).isEqualTo(2);
		assertThat(tenant.get("limits").get("requestsPerMinute").asLong()).isEqualTo(100);
		assertThat(tenant.get("limits").get("maxConcurrent").isNull()).isTrue();
		assertThat(send("GET", "/api/v1/tenants", CI, null).body()).contains("\"" + this.id + "\"");

		HttpResponse<String> updated = send("PUT", "/api/v1/tenants/" + this.id, CI, """
				{"allowedTiers":["P2"],"limits":{"maxConcurrent":3,"monthlyTokenBudget":5000}}""");
		assertThat(updated.statusCode()).as(updated.body()).isEqualTo(200);
		tenant = json.readTree(send("GET", "/api/v1/tenants/" + this.id, CI, null).body());
		assertThat(tenant.get("defaultTier").asString()).isEqualTo("P2");
		assertThat(tenant.get("limits").get("requestsPerMinute").isNull()).isTrue();
		assertThat(tenant.get("limits").get("maxConcurrent").asLong()).isEqualTo(3);

		assertThat(post("/v1/chat/completions", key, chat(SimulatedGpuFleet.LLAMA, 2)).statusCode()).isEqualTo(200);
		assertThat(send("DELETE", "/api/v1/tenants/" + this.id, CI, null).statusCode()).isEqualTo(204);
		assertThat(send("GET", "/api/v1/tenants/" + this.id, CI, null).statusCode()).isEqualTo(404);
		assertThat(post("/v1/chat/completions", key, chat(SimulatedGpuFleet.LLAMA, 2)).statusCode()).isEqualTo(401);
		JsonNode usage = json.readTree(send("GET", "/api/v1/tenants/" + this.id + "/usage", CI, null).body());
		assertThat(usage.get("totals").get("requests").asLong()).as("usage outlives the tenant").isEqualTo(1);
		assertProblem(send("DELETE", "/api/v1/tenants/" + this.id, CI, null), 404, null);
	}

	@Test
	void changesMadeThroughTheApiAreAudited() throws Exception {
		String key = createTenant(this.id, "{\"requestsPerMinute\":100}");
		assertThat(send("PUT", "/api/v1/tenants/" + this.id, CI, """
				{"allowedTiers":["P2"],"limits":{"maxConcurrent":3}}""").statusCode()).isEqualTo(200);
		assertThat(send("DELETE", "/api/v1/tenants/" + this.id, CI, null).statusCode()).isEqualTo(204);

		JsonNode entries = json.readTree(send("GET", "/api/v1/audit?kind=tenant&limit=1000", CI, null).body());
		List<String> actions = new ArrayList<>();
		for (JsonNode entry : entries) {
			if (entry.get("target").asString().startsWith(this.id)) {
				actions.add(0, entry.get("action").asString());
				assertThat(entry.get("actor").asString()).isNotEqualTo("system");
				assertThat(entry.toString()).as("the key itself is never audited").doesNotContain(key);
			}
		}
		assertThat(actions).containsExactly("create", "create-key", "update", "delete");
	}

	@Test
	void keysAreShownOnceListedByPrefixAndRevokedForTheNextRequest() throws Exception {
		String key = createTenant(this.id, "{}");
		assertThat(key).startsWith("tg-").hasSizeGreaterThan(40);
		HttpResponse<String> listing = send("GET", "/api/v1/tenants/" + this.id + "/keys", CI, null);
		assertThat(listing.body()).doesNotContain(key).contains(key.substring(0, 7));
		JsonNode keys = json.readTree(listing.body());
		assertThat(keys).hasSize(1);
		assertThat(keys.get(0).get("created").asString()).isNotBlank();
		String keyId = keys.get(0).get("id").asString();

		assertThat(post("/v1/chat/completions", key, chat(SimulatedGpuFleet.LLAMA, 2)).statusCode()).isEqualTo(200);
		assertThat(send("DELETE", "/api/v1/tenants/" + this.id + "/keys/" + keyId, CI, null).statusCode())
			.isEqualTo(204);
		HttpResponse<String> refused = post("/v1/chat/completions", key, chat(SimulatedGpuFleet.LLAMA, 2));
		assertThat(refused.statusCode()).isEqualTo(401);
		assertThat(refused.body()).contains("invalid_api_key");
		assertThat(get("/v1/usage", "Bearer " + key).statusCode()).isEqualTo(401);
		assertProblem(send("DELETE", "/api/v1/tenants/" + this.id + "/keys/" + keyId, CI, null), 404, null);
	}

	@Test
	void badInputIs400NamingTheFieldAndDuplicatesAre409() throws Exception {
		createTenant(this.id, "{}");
		assertProblem(send("POST", "/api/v1/tenants", CI, """
				{"id":"%s","allowedTiers":["P1"]}""".formatted(this.id)), 409, null);
		String other = this.id + "-x";
		assertProblem(send("POST", "/api/v1/tenants", CI, """
				{"id":"%s","allowedTiers":["P1"],"limits":{"requestsPerMinute":-1}}""".formatted(other)), 400,
				"limits.requestsPerMinute");
		assertProblem(send("POST", "/api/v1/tenants", CI, """
				{"id":"%s","allowedTiers":["P1"],"limits":{"tokensPerMinute":0}}""".formatted(other)), 400,
				"limits.tokensPerMinute");
		assertProblem(send("POST", "/api/v1/tenants", CI, """
				{"id":"%s","allowedTiers":["P1"],"limits":{"maxConcurrent":100000000}}""".formatted(other)), 400,
				"limits.maxConcurrent");
		assertProblem(send("POST", "/api/v1/tenants", CI, """
				{"id":"%s","allowedTiers":["P1"],"limits":{"monthlyTokenBudget":9000000000000000}}""".formatted(other)),
				400, "limits.monthlyTokenBudget");
		assertProblem(send("POST", "/api/v1/tenants", CI, """
				{"id":"%s","allowedTiers":["P1","P9"]}""".formatted(other)), 400, "allowedTiers");
		assertProblem(send("POST", "/api/v1/tenants", CI, """
				{"id":"%s","allowedTiers":["P1"],"defaultTier":"P0"}""".formatted(other)), 400, "defaultTier");
		assertProblem(send("POST", "/api/v1/tenants", CI, """
				{"id":"%s","allowedTiers":["P1"],"weight":0}""".formatted(other)), 400, "weight");
		assertProblem(send("POST", "/api/v1/tenants", CI, """
				{"id":"Not An Id","allowedTiers":["P1"]}"""), 400, "id");
		assertProblem(send("POST", "/api/v1/tenants", CI, "{\"allowedTiers\":[\"P1\"]}"), 400, "id");
		assertProblem(send("POST", "/api/v1/tenants", CI, "{\"id\":"), 400, null);
		assertProblem(send("PUT", "/api/v1/tenants/" + other, CI, "{\"allowedTiers\":[\"P1\"]}"), 404, null);
		assertProblem(send("GET", "/api/v1/tenants/" + this.id + "/usage?month=soon", CI, null), 400, "month");
		assertThat(send("GET", "/api/v1/tenants/" + other, CI, null).statusCode()).as("nothing was created")
			.isEqualTo(404);
		assertProblem(send("POST", "/api/v1/tenants", basic("viewer", "viewer"), """
				{"id":"%s","allowedTiers":["P1"]}""".formatted(other)), 403, null);
	}

	@Test
	void everyAnswerCarriesRateLimitHeadersAndA429NamesTheLimit() throws Exception {
		String key = createTenant(this.id, "{\"requestsPerMinute\":3,\"tokensPerMinute\":100000}");
		for (int remaining = 2; remaining >= 0; remaining--) {
			HttpResponse<String> ok = post("/v1/chat/completions", key, chat(SimulatedGpuFleet.LLAMA, 2));
			assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
			assertThat(ok.headers().firstValue("x-ratelimit-limit-requests")).contains("3");
			assertThat(ok.headers().firstValue("x-ratelimit-remaining-requests")).contains(Integer.toString(remaining));
			assertThat(ok.headers().firstValue("x-ratelimit-limit-tokens")).contains("100000");
			assertThat(ok.headers().firstValue("x-ratelimit-remaining-tokens")).isPresent();
		}
		HttpResponse<String> refused = post("/v1/chat/completions", key, chat(SimulatedGpuFleet.LLAMA, 2));
		assertThat(refused.statusCode()).isEqualTo(429);
		JsonNode error = json.readTree(refused.body()).get("error");
		assertThat(error.get("code").asString()).isEqualTo("rate_limit_exceeded");
		assertThat(error.get("type").asString()).isEqualTo("requests");
		assertThat(error.get("message").asString()).contains("requests per minute");
		assertThat(refused.headers().firstValue("x-tiergate-quota-limit")).contains("requests_per_minute");
		assertThat(refused.headers().firstValue("x-ratelimit-remaining-requests")).contains("0");
		assertThat(Long.parseLong(refused.headers().firstValue("Retry-After").orElseThrow())).isBetween(1L, 60L);
	}

	@Test
	void tokenUsageIsReconciledToWhatTheEndpointReported() throws Exception {
		String key = createTenant(this.id, "{\"tokensPerMinute\":100000,\"monthlyTokenBudget\":1000000}");
		HttpResponse<String> plain = post("/v1/chat/completions", key, chat(SimulatedGpuFleet.LLAMA, 7));
		assertThat(plain.statusCode()).isEqualTo(200);
		JsonNode plainUsage = json.readTree(plain.body()).get("usage");
		HttpResponse<String> streamed = post("/v1/chat/completions", key, """
				{"model":"%s","messages":[{"role":"user","content":"Stream me some words"}],"max_tokens":5,
				 "stream":true,"stream_options":{"include_usage":true}}""".formatted(SimulatedGpuFleet.LLAMA));
		assertThat(streamed.statusCode()).isEqualTo(200);
		String usageLine = streamed.body()
			.lines()
			.filter((l) -> l.startsWith("data: {") && l.contains("\"usage\":{"))
			.reduce((a, b) -> b)
			.orElseThrow();
		JsonNode streamUsage = json.readTree(usageLine.substring(6)).get("usage");
		long prompt = plainUsage.get("prompt_tokens").asLong() + streamUsage.get("prompt_tokens").asLong();
		long completion = plainUsage.get("completion_tokens").asLong() + streamUsage.get("completion_tokens").asLong();
		assertThat(completion).isEqualTo(12);

		JsonNode usage = json.readTree(get("/v1/usage", "Bearer " + key).body());
		assertThat(usage.get("tenant").asString()).isEqualTo(this.id);
		assertThat(usage.get("totals").get("requests").asLong()).isEqualTo(2);
		assertThat(usage.get("totals").get("prompt_tokens").asLong()).isEqualTo(prompt);
		assertThat(usage.get("totals").get("completion_tokens").asLong()).isEqualTo(completion);
		assertThat(usage.get("current").get("tokens_last_minute").asLong()).isEqualTo(prompt + completion);
		assertThat(usage.get("current").get("month_tokens").asLong()).isEqualTo(prompt + completion);
		assertThat(usage.get("current").get("in_flight").asLong()).isZero();
		assertThat(usage.get("data").get(0).get("model").asString()).isEqualTo(SimulatedGpuFleet.LLAMA);
		assertThat(usage.get("data").get(0).get("tier").asString()).isEqualTo("P1");

		HttpResponse<String> csv = send("GET", "/api/v1/tenants/" + this.id + "/usage.csv", basic("viewer", "viewer"),
				null);
		assertThat(csv.statusCode()).isEqualTo(200);
		assertThat(csv.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/csv");
		assertThat(csv.body()).startsWith("day,tier,model,requests,prompt_tokens,completion_tokens")
			.contains(",P1," + SimulatedGpuFleet.LLAMA + ",2," + prompt + "," + completion);
	}

	@Test
	void aTenantSeesAndSpendsOnlyItsOwnQuota() throws Exception {
		String mine = createTenant(this.id, "{\"requestsPerMinute\":1}");
		String theirs = createTenant(this.id + "-b", "{\"requestsPerMinute\":1}");
		assertThat(post("/v1/chat/completions", mine, chat(SimulatedGpuFleet.LLAMA, 2)).statusCode()).isEqualTo(200);
		assertThat(post("/v1/chat/completions", mine, chat(SimulatedGpuFleet.LLAMA, 2)).statusCode()).isEqualTo(429);
		assertThat(post("/v1/chat/completions", theirs, chat(SimulatedGpuFleet.QWEN, 2)).statusCode())
			.as("another tenant's exhausted limit does not touch this one")
			.isEqualTo(200);

		JsonNode myUsage = json.readTree(get("/v1/usage?tenant=" + this.id + "-b", "Bearer " + mine).body());
		assertThat(myUsage.get("tenant").asString()).isEqualTo(this.id);
		assertThat(myUsage.toString()).doesNotContain(SimulatedGpuFleet.QWEN);
		JsonNode theirUsage = json.readTree(get("/v1/usage", "Bearer " + theirs).body());
		assertThat(theirUsage.get("tenant").asString()).isEqualTo(this.id + "-b");
		assertThat(theirUsage.toString()).doesNotContain(SimulatedGpuFleet.LLAMA);

		assertThat(get("/api/v1/tenants", "Bearer " + mine).statusCode()).as("tenant keys open no operator route")
			.isEqualTo(401);
		assertThat(get("/api/v1/tenants/" + this.id + "-b/usage", "Bearer " + mine).statusCode()).isEqualTo(401);
		assertThat(get("/", "Bearer " + mine).statusCode()).as("nor the dashboard").isEqualTo(302);
		assertThat(post("/v1/chat/completions", mine, chat(SimulatedGpuFleet.LLAMA, 2), "X-Tiergate-Tenant",
				this.id + "-b")
			.statusCode()).as("no header switches tenant").isEqualTo(429);
	}

}
