package dev.tiergate.cost;

import java.net.http.HttpResponse;
import java.time.Duration;

import org.junit.jupiter.api.Test;

import dev.tiergate.FleetIntegrationTestSupport;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Tests for {@link SimulationsApiController} and {@link PricesApiController}: the whole
 * application, over HTTP.
 */
class SimulationsApiIntegrationTests extends FleetIntegrationTestSupport {

	private static final String ADMIN = basic("admin", "admin");

	private static final String VIEWER = basic("viewer", "viewer");

	private static final String SMALL_TRACE = "TIMESTAMP,ContextTokens,GeneratedTokens\\n"
			+ "2023-11-16 18:15:46.6805900,374,44\\n2023-11-16 18:15:47.0000000,120,12\\n"
			+ "2023-11-16 18:15:48.5000000,800,30\\n";

	private final JsonMapper json = JsonMapper.builder().build();

	@Test
	void aSimulationRunsInTheBackgroundAndItsReportIsReadableAsJsonAndHtml() throws Exception {
		HttpResponse<String> started = send("POST", "/api/v1/simulations", ADMIN, """
				{"traceContent":"%s","fleet":{"gpu":"NVIDIA-A100-SXM4-80GB","gpus":1,"sharing":"MPS","replicas":2,
				 "models":[{"model":"llama-3.1-8b-instruct","sliceShare":1,"slots":4}]},
				 "tierShares":{"P0":0.5,"P1":0.5,"P2":0},"seed":7,"sweep":false}
				""".formatted(SMALL_TRACE));

		assertThat(started.statusCode()).as(started.body()).isEqualTo(202);
		JsonNode job = this.json.readTree(started.body());
		String id = job.get("id").stringValue();
		assertThat(started.headers().firstValue("Location")).hasValue("/api/v1/simulations/" + id);
		await().atMost(Duration.ofSeconds(30))
			.until(() -> this.json.readTree(get("/api/v1/simulations/" + id, VIEWER).body())
				.get("status")
				.stringValue()
				.equals("DONE"));
		JsonNode done = this.json.readTree(get("/api/v1/simulations/" + id, VIEWER).body());
		assertThat(done.get("progress").asDouble()).isEqualTo(1.0);
		JsonNode report = done.get("report");
		assertThat(report.get("requests").asInt()).isEqualTo(3);
		assertThat(report.at("/tiered/tiers/P0/requests").asInt() + report.at("/tiered/tiers/P1/requests").asInt())
			.isEqualTo(3);
		assertThat(report.at("/fleet/replicas").asInt()).isEqualTo(2);
		assertThat(report.at("/cost/selfHostedMonthly").asDouble()).isEqualTo(2_000.20);
		HttpResponse<String> html = get("/api/v1/simulations/" + id + "/report.html", VIEWER);
		assertThat(html.statusCode()).isEqualTo(200);
		assertThat(html.headers().firstValue("Content-Type")).hasValueSatisfying((t) -> assertThat(t).contains("html"));
		assertThat(html.body()).contains("TiergateSimulationReport.render", "Chart").doesNotContain("<script src");
		assertThat(this.json.readTree(get("/api/v1/simulations", VIEWER).body()).toString()).contains(id);
	}

	@Test
	void badSimulationRequestsAreRefusedWithProblemDetailsNamingTheField() throws Exception {
		assertBadRequest("{}", "trace", "give either trace");
		assertBadRequest("{\"trace\":\"nope.csv\"}", "trace", "no trace file 'nope.csv'");
		assertBadRequest("{\"traceContent\":\"TIMESTAMP,ContextTokens,GeneratedTokens\\n2023-11-16 18:15:46,x,1\\n\"}",
				"traceContent", "line 2: ContextTokens must be an integer");
		assertBadRequest(
				"{\"traceContent\":\"%s\",\"fleet\":{\"gpu\":\"NVIDIA-A100-SXM4-80GB\",\"gpus\":0,"
					.formatted(SMALL_TRACE) + "\"sharing\":\"MPS\",\"replicas\":4,\"models\":[]}}",
				"fleet.gpus", "gpus must be between 1 and 100000");
		assertBadRequest("{\"traceContent\":\"%s\",\"tierShares\":{\"P0\":0.9}}".formatted(SMALL_TRACE), "shares",
				"shares must sum to 1");
		assertBadRequest("{\"traceContent\":\"%s\",\"tiers\":{\"P0\":{\"reservedShare\":2}}}".formatted(SMALL_TRACE),
				"tiers.P0.reservedShare", "must be between 0 and 1");
		assertBadRequest("{\"traceContent\":\"%s\",\"speed\":-1}".formatted(SMALL_TRACE), "speed",
				"must be a positive number");
		assertBadRequest("{\"traceContent\":\"%s\",\"colour\":\"red\"}".formatted(SMALL_TRACE), "colour",
				"is not a known field");
	}

	@Test
	void unknownSimulationsAre404AndUnfinishedReports409() throws Exception {
		HttpResponse<String> missing = get("/api/v1/simulations/sim-999999", VIEWER);

		assertThat(missing.statusCode()).isEqualTo(404);
		assertThat(missing.headers().firstValue("Content-Type"))
			.hasValueSatisfying((type) -> assertThat(type).startsWith("application/problem+json"));
	}

	@Test
	void simulationsNeedAnOperatorToStartAndALoginToRead() throws Exception {
		assertThat(get("/api/v1/simulations", null).statusCode()).isEqualTo(401);
		assertThat(send("POST", "/api/v1/simulations", VIEWER, "{\"traceContent\":\"%s\"}".formatted(SMALL_TRACE))
			.statusCode()).isEqualTo(403);
		assertThat(send("PUT", "/api/v1/cost/prices", VIEWER, "{}").statusCode()).isEqualTo(403);
	}

	@Test
	void thePriceSheetIsReadAndReplacedWholeAndBadPricesAreRefusedNamingTheField() throws Exception {
		JsonNode defaults = this.json.readTree(get("/api/v1/cost/prices", VIEWER).body());
		assertThat(defaults.at("/gpuHourly/NVIDIA-A100-SXM4-80GB").asDouble()).isEqualTo(2.74);
		assertThat(defaults.at("/hosted/*/outputPerMillion").asDouble()).isEqualTo(10.0);
		try {
			HttpResponse<String> bad = send("PUT", "/api/v1/cost/prices", ADMIN, """
					{"hosted":{"*":{"inputPerMillion":-2,"outputPerMillion":10}},
					 "gpuHourly":{"NVIDIA-A100-SXM4-80GB":2},"monthlyOverhead":0}
					""");
			assertThat(bad.statusCode()).isEqualTo(400);
			assertThat(this.json.readTree(bad.body()).get("field").stringValue()).isEqualTo("hosted.*.inputPerMillion");
			HttpResponse<String> missing = send("PUT", "/api/v1/cost/prices", ADMIN, "{\"hosted\":{}}");
			assertThat(missing.statusCode()).isEqualTo(400);
			assertThat(this.json.readTree(missing.body()).get("field").stringValue()).isEqualTo("gpuHourly");

			HttpResponse<String> ok = send("PUT", "/api/v1/cost/prices", ADMIN, """
					{"hosted":{"*":{"inputPerMillion":1,"outputPerMillion":4}},
					 "gpuHourly":{"NVIDIA-A100-SXM4-80GB":1.5},"monthlyOverhead":500,"source":"test"}
					""");
			assertThat(ok.statusCode()).isEqualTo(200);
			assertThat(this.json.readTree(get("/api/v1/cost/prices", VIEWER).body()).get("monthlyOverhead").asDouble())
				.isEqualTo(500);
		}
		finally {
			send("PUT", "/api/v1/cost/prices", ADMIN, this.json.writeValueAsString(defaults));
		}
	}

	private void assertBadRequest(String body, String field, String message) throws Exception {
		HttpResponse<String> response = send("POST", "/api/v1/simulations", ADMIN, body);
		assertThat(response.statusCode()).as(body).isEqualTo(400);
		assertThat(response.headers().firstValue("Content-Type"))
			.hasValueSatisfying((type) -> assertThat(type).startsWith("application/problem+json"));
		JsonNode problem = this.json.readTree(response.body());
		assertThat(problem.get("field").stringValue()).as(response.body()).isEqualTo(field);
		assertThat(problem.get("detail").stringValue()).as(response.body()).contains(message);
	}

}
