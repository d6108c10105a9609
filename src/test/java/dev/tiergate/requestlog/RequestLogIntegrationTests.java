package dev.tiergate.requestlog;

import java.io.StringReader;
import java.net.http.HttpResponse;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.locks.LockSupport;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.data.redis.core.RedisCallback;
import org.springframework.data.redis.core.StringRedisTemplate;

import dev.tiergate.EmbeddedDefaults;
import dev.tiergate.FleetIntegrationTestSupport;
import dev.tiergate.cost.SimulateCommand;
import dev.tiergate.cost.Trace;
import dev.tiergate.cost.TraceFormat;
import dev.tiergate.cost.TraceReader;
import dev.tiergate.cost.TraceRequest;
import dev.tiergate.fleet.SimulatedGpuFleet;
import dev.tiergate.tier.Tier;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Tests for the request log through the whole application: requests served through the
 * proxy and the embedded fleet show up in {@code GET /api/v1/request-log}, whose export
 * the simulator reads back as a trace.
 */
class RequestLogIntegrationTests extends FleetIntegrationTestSupport {

	private static final JsonMapper json = JsonMapper.builder().build();

	private static final String ADMIN = FleetIntegrationTestSupport.basic("admin", "admin");

	@Autowired
	private RedisRequestLog log;

	@Autowired
	private StringRedisTemplate redis;

	@Test
	void aPipelinesCommandsGoToRedisTogetherWhenItCloses() throws Exception {
		String key = "tg:test:pipeline:" + UUID.randomUUID();
		boolean[] seenBeforeClose = new boolean[1];
		try {
			this.redis.executePipelined((RedisCallback<Object>) (connection) -> {
				connection.stringCommands().set(key.getBytes(StandardCharsets.UTF_8), new byte[] { '1' });
				// Another connection (the template's shared one) looks while the pipeline
				// is open: with a write per command the value is there within
				// milliseconds.
				long until = System.nanoTime() + Duration.ofMillis(300).toNanos();
				while (System.nanoTime() < until && !seenBeforeClose[0]) {
					seenBeforeClose[0] = Boolean.TRUE.equals(this.redis.hasKey(key));
					LockSupport.parkNanos(Duration.ofMillis(10).toNanos());
				}
				return null;
			});
			assertThat(seenBeforeClose[0]).as("the pipeline's SET reached Redis before the pipeline closed").isFalse();
			assertThat(this.redis.opsForValue().get(key)).isEqualTo("1");
		}
		finally {
			this.redis.delete(key);
		}
	}

	/**
	 * Flushes until the window holds the records: a record is appended once its answer
	 * has ended, which the client may see first.
	 */
	private void awaitRecords(String window, int count) {
		await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
			this.log.flush();
			HttpResponse<String> export = get("/api/v1/request-log?format=jsonl" + window, ADMIN);
			assertThat(export.body().lines().filter((line) -> !line.isBlank())).hasSize(count);
		});
	}

	@Test
	void aServedStreamingRequestIsExportedWithItsTimingsTokensAndTier() throws Exception {
		Instant before = Instant.now();
		HttpResponse<String> served = post("/v1/chat/completions", EmbeddedDefaults.ACME_KEY, """
				{"model":"%s","messages":[{"role":"user","content":"Say something about GPUs"}],
				 "max_tokens":12,"stream":true,"stream_options":{"include_usage":true}}"""
			.formatted(SimulatedGpuFleet.LLAMA), "X-Tiergate-Priority", "P0");
		assertThat(served.statusCode()).isEqualTo(200);
		Instant after = Instant.now();
		awaitRecords("&tenant=acme&from=" + query(before) + "&to=" + query(after), 1);

		HttpResponse<String> export = get(
				"/api/v1/request-log?tenant=acme&format=jsonl&from=" + query(before) + "&to=" + query(after), ADMIN);

		assertThat(export.statusCode()).isEqualTo(200);
		assertThat(export.headers().firstValue("Content-Type"))
			.hasValueSatisfying((type) -> assertThat(type).startsWith("application/x-ndjson"));
		List<String> lines = export.body().lines().toList();
		assertThat(lines).hasSize(1);
		JsonNode record = json.readTree(lines.get(0));
		Instant time = Instant.parse(record.get("time").asString());
		assertThat(time).isBetween(before, after);
		assertThat(record.get("tenant").asString()).isEqualTo("acme");
		assertThat(record.get("tier").asString()).isEqualTo("P0");
		assertThat(record.get("model").asString()).isEqualTo(SimulatedGpuFleet.LLAMA);
		assertThat(record.get("api").asString()).isEqualTo("chat.completions");
		assertThat(record.get("stream").asBoolean()).isTrue();
		assertThat(record.get("status").asInt()).isEqualTo(200);
		assertThat(record.get("servedBy").asString()).isEqualTo("fleet");
		assertThat(record.get("promptTokens").asLong()).isPositive();
		assertThat(record.get("completionTokens").asLong()).isEqualTo(12);
		double queue = record.get("queueMs").asDouble();
		double ttft = record.get("ttftMs").asDouble();
		double duration = record.get("durationMs").asDouble();
		assertThat(queue).isGreaterThanOrEqualTo(0).isLessThanOrEqualTo(ttft);
		assertThat(ttft).isPositive().isLessThanOrEqualTo(duration);
		assertThat(duration).isLessThanOrEqualTo(after.toEpochMilli() - before.toEpochMilli() + 1);
	}

	@Test
	void aStreamWhoseEngineReportsNoUsageIsLoggedWithTheTokensItStreamed() throws Exception {
		Instant before = Instant.now();
		for (String path : List.of("/v1/chat/completions", "/v1/completions")) {
			String body = path.endsWith("chat/completions")
					? "{\"model\":\"%s\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":9,\"stream\":true}"
					: "{\"model\":\"%s\",\"prompt\":\"Hi\",\"max_tokens\":9,\"stream\":true}";
			HttpResponse<String> served = post(path, EmbeddedDefaults.ACME_KEY, body.formatted(SimulatedGpuFleet.LLAMA),
					"X-Tiergate-Priority", "P1");
			assertThat(served.statusCode()).isEqualTo(200);
			assertThat(served.body()).doesNotContain("\"prompt_tokens\"");
		}
		Instant after = Instant.now();
		awaitRecords("&tenant=acme&from=" + query(before) + "&to=" + query(after), 2);

		HttpResponse<String> export = get(
				"/api/v1/request-log?tenant=acme&from=" + query(before) + "&to=" + query(after), ADMIN);

		List<JsonNode> records = export.body().lines().map(json::readTree).toList();
		assertThat(records).extracting((record) -> record.get("api").asString())
			.containsExactlyInAnyOrder("chat.completions", "completions");
		assertThat(records).allSatisfy((record) -> assertThat(record.get("completionTokens").asInt()).isEqualTo(9));
	}

	@Test
	void theExportIsATraceThatTheSimulatorReplaysWithTheLoggedTiers(@TempDir Path dir) throws Exception {
		Instant before = Instant.now();
		for (String tier : List.of("P0", "P1", "P2")) {
			HttpResponse<String> served = post("/v1/chat/completions", EmbeddedDefaults.ACME_KEY,
					chat(SimulatedGpuFleet.LLAMA, 8), "X-Tiergate-Priority", tier);
			assertThat(served.statusCode()).isEqualTo(200);
		}
		Instant after = Instant.now();
		String window = "&tenant=acme&from=" + query(before) + "&to=" + query(after);
		awaitRecords(window, 3);

		for (String format : List.of("jsonl", "csv")) {
			HttpResponse<String> export = get("/api/v1/request-log?format=" + format + window, ADMIN);
			assertThat(export.statusCode()).isEqualTo(200);
			Trace trace = TraceReader.read("export." + format, new StringReader(export.body()));
			assertThat(trace.format())
				.isEqualTo(format.equals("csv") ? TraceFormat.TIERGATE_CSV : TraceFormat.TIERGATE_JSONL);
			assertThat(trace.requests()).extracting(TraceRequest::tier)
				.containsExactlyInAnyOrder(Tier.P0, Tier.P1, Tier.P2);
			assertThat(trace.requests()).allSatisfy((request) -> {
				assertThat(request.tenant()).isEqualTo("acme");
				assertThat(request.model()).isEqualTo(SimulatedGpuFleet.LLAMA);
				assertThat(request.outputTokens()).isEqualTo(8);
			});

			Path file = dir.resolve("requests." + format);
			Files.writeString(file, export.body());
			Path report = dir.resolve("report-" + format + ".json");
			ByteArrayOutputStream out = new ByteArrayOutputStream();
			int exit = SimulateCommand.run(new String[] { "--trace", file.toString(), "--no-sweep", "--threads", "1",
					"--out", report.toString() }, new PrintStream(out, true, StandardCharsets.UTF_8), System.err);
			assertThat(exit).as(out.toString(StandardCharsets.UTF_8)).isZero();
			JsonNode simulated = json.readTree(report.toFile());
			assertThat(simulated.get("requests").asInt()).isEqualTo(3);
			for (String tier : List.of("P0", "P1", "P2")) {
				assertThat(simulated.at("/tiered/tiers/" + tier + "/completed").asInt()).as(tier).isEqualTo(1);
			}
		}
	}

	@Test
	void badQueriesGet400WithTheFieldAndReason() throws Exception {
		HttpResponse<String> reversed = get("/api/v1/request-log?from=2026-11-29T18:00:00Z&to=2026-11-29T17:00:00Z",
				ADMIN);
		assertThat(reversed.statusCode()).isEqualTo(400);
		assertThat(reversed.headers().firstValue("Content-Type")).hasValue("application/problem+json");
		assertThat(reversed.body()).contains("from").contains("must not be after to");

		HttpResponse<String> format = get("/api/v1/request-log?format=xml", ADMIN);
		assertThat(format.statusCode()).isEqualTo(400);
		assertThat(format.body()).contains("format").contains("must be jsonl or csv");

		HttpResponse<String> time = get("/api/v1/request-log?from=yesterday", ADMIN);
		assertThat(time.statusCode()).isEqualTo(400);
		assertThat(time.body()).contains("ISO-8601");

		HttpResponse<String> span = get("/api/v1/request-log?from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z", ADMIN);
		assertThat(span.statusCode()).isEqualTo(400);
		assertThat(span.body()).contains("at most 31 days");
	}

	@Test
	void onlyAdminsReadTheLogForItNamesEveryTenant() throws Exception {
		assertThat(get("/api/v1/request-log", FleetIntegrationTestSupport.basic("viewer", "viewer")).statusCode())
			.isEqualTo(403);
		assertThat(get("/api/v1/request-log", "Bearer " + EmbeddedDefaults.CI_TOKEN).statusCode()).isEqualTo(403);
		assertThat(get("/api/v1/request-log", "Bearer " + EmbeddedDefaults.ACME_KEY).statusCode()).isIn(401, 403);
		assertThat(get("/api/v1/request-log", ADMIN).statusCode()).isEqualTo(200);
	}

	private static String query(Instant instant) {
		return URLEncoder.encode(instant.toString(), StandardCharsets.UTF_8);
	}

}
