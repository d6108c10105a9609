package dev.tiergate.fleet;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse.BodyHandlers;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.tiergate.cost.GpuProfile;
import dev.tiergate.cost.GpuServiceTimeModel;
import dev.tiergate.cost.ModelProfile;
import dev.tiergate.cost.SliceShare;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.awaitility.Awaitility.await;

/**
 * Tests for {@link SimulatedInferenceServer}.
 */
class SimulatedInferenceServerTests {

	private static final String MODEL = "llama-3.1-8b-instruct";

	private static final Instant NOW = Instant.parse("2026-11-02T10:15:30Z");

	/**
	 * A decode step of 0.12 ms: a hundred tokens take about 12 ms.
	 */
	private static final double FAST = 0.01;

	/**
	 * A decode step of 1.2 ms: long enough for a test to watch requests run and wait.
	 */
	private static final double WATCHABLE = 0.1;

	private final List<SimulatedInferenceServer> servers = new ArrayList<>();

	/** When each answer arrived ({@link System#nanoTime}). */
	private final Map<CompletableFuture<?>, Long> arrivals = new ConcurrentHashMap<>();

	private final HttpClient http = HttpClient.newBuilder()
		.version(HttpClient.Version.HTTP_1_1)
		.connectTimeout(Duration.ofSeconds(5))
		.build();

	private final JsonMapper json = JsonMapper.builder().build();

	@AfterEach
	void closeServersAndClient() {
		this.servers.forEach(SimulatedInferenceServer::close);
		this.http.shutdownNow();
	}

	@Test
	void chatCompletionAnswersOpenAiShapedJsonWithUsage() throws Exception {
		SimulatedInferenceServer server = start(4, FAST);
		HttpResponse<String> response = post(server, "/v1/chat/completions", """
				{"model": "%s", "priority": -10, "max_tokens": 5,
				 "messages": [{"role": "system", "content": "Be brief."},
				              {"role": "user", "content": [{"type": "text", "text": "Hello there, how are you?"}]}]}
				""".formatted(MODEL));

		assertThat(response.statusCode()).isEqualTo(200);
		assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
		JsonNode body = this.json.readTree(response.body());
		assertThat(body.get("id").stringValue()).startsWith("chatcmpl-");
		assertThat(body.get("object").stringValue()).isEqualTo("chat.completion");
		assertThat(body.get("created").asLong()).isEqualTo(NOW.getEpochSecond());
		assertThat(body.get("model").stringValue()).isEqualTo(MODEL);
		JsonNode choice = body.get("choices").get(0);
		assertThat(choice.get("index").asInt()).isZero();
		assertThat(choice.get("message").get("role").stringValue()).isEqualTo("assistant");
		assertThat(choice.get("message").get("content").stringValue().split(" ")).hasSize(5);
		assertThat(choice.get("finish_reason").stringValue()).isEqualTo("length");
		assertThat(choice.get("logprobs").isNull()).isTrue();
		// "Be brief." and "Hello there, how are you?" are 9 + 25 = 34 characters: 8
		// tokens.
		assertThat(body.get("usage").get("prompt_tokens").asInt()).isEqualTo(8);
		assertThat(body.get("usage").get("completion_tokens").asInt()).isEqualTo(5);
		assertThat(body.get("usage").get("total_tokens").asInt()).isEqualTo(13);
		await().untilAsserted(() -> assertThat(server.completed()).isEqualTo(1));
	}

	@Test
	void completionsEndpointAnswersWithADeterministicLengthWhenMaxTokensIsMissing() throws Exception {
		SimulatedInferenceServer server = start(4, FAST);
		String request = """
				{"model": "%s", "prompt": "Once upon a time"}
				""".formatted(MODEL);

		JsonNode first = this.json.readTree(post(server, "/v1/completions", request).body());
		JsonNode second = this.json.readTree(post(server, "/v1/completions", request).body());

		assertThat(first.get("id").stringValue()).startsWith("cmpl-");
		assertThat(first.get("object").stringValue()).isEqualTo("text_completion");
		JsonNode choice = first.get("choices").get(0);
		assertThat(choice.get("finish_reason").stringValue()).isEqualTo("stop");
		assertThat(choice.get("logprobs").isNull()).isTrue();
		int completionTokens = first.get("usage").get("completion_tokens").asInt();
		assertThat(completionTokens).isBetween(16, 128);
		assertThat(choice.get("text").stringValue().split(" ")).hasSize(completionTokens);
		assertThat(first.get("usage").get("prompt_tokens").asInt()).isEqualTo(4);
		assertThat(second.get("choices").get(0).get("text")).isEqualTo(choice.get("text"));
		assertThat(second.get("id")).isNotEqualTo(first.get("id"));
	}

	@Test
	void answerTakesAtLeastTheModelledServiceTime() throws Exception {
		GpuServiceTimeModel serviceTime = serviceTime(WATCHABLE);
		SimulatedInferenceServer server = start(4, WATCHABLE);
		long started = System.nanoTime();

		HttpResponse<String> response = post(server, "/v1/completions", """
				{"model": "%s", "prompt": "%s", "max_tokens": 50}
				""".formatted(MODEL, "x".repeat(4_000)));

		assertThat(response.statusCode()).isEqualTo(200);
		assertThat(Duration.ofNanos(System.nanoTime() - started))
			.isGreaterThanOrEqualTo(serviceTime.totalTime(1_000, 50, 1));
	}

	@Test
	void streamingChatSendsOneChunkPerTokenThenAUsageChunkThenDone() throws Exception {
		SimulatedInferenceServer server = start(4, FAST);
		HttpResponse<String> response = post(server, "/v1/chat/completions", """
				{"model": "%s", "max_completion_tokens": 6, "stream": true, "stream_options": {"include_usage": true},
				 "messages": [{"role": "user", "content": "Tell me a story"}]}
				""".formatted(MODEL));

		assertThat(response.statusCode()).isEqualTo(200);
		assertThat(response.headers().firstValue("Content-Type"))
			.hasValueSatisfying((type) -> assertThat(type).startsWith("text/event-stream"));
		List<String> events = events(response.body());
		assertThat(events).hasSize(8).last().isEqualTo("[DONE]");
		StringBuilder content = new StringBuilder();
		for (int i = 0; i < 6; i++) {
			JsonNode chunk = this.json.readTree(events.get(i));
			assertThat(chunk.get("object").stringValue()).isEqualTo("chat.completion.chunk");
			assertThat(chunk.get("id").stringValue()).startsWith("chatcmpl-");
			assertThat(chunk.get("model").stringValue()).isEqualTo(MODEL);
			assertThat(chunk.get("usage").isNull()).isTrue();
			JsonNode choice = chunk.get("choices").get(0);
			assertThat(choice.get("delta").has("role")).isEqualTo(i == 0);
			content.append(choice.get("delta").get("content").stringValue());
			assertThat(choice.get("finish_reason").isNull()).isEqualTo(i < 5);
		}
		assertThat(this.json.readTree(events.get(0)).at("/choices/0/delta/role").stringValue()).isEqualTo("assistant");
		assertThat(this.json.readTree(events.get(5)).at("/choices/0/finish_reason").stringValue()).isEqualTo("length");
		assertThat(content.toString().split(" ")).hasSize(6);
		JsonNode usageChunk = this.json.readTree(events.get(6));
		assertThat(usageChunk.get("choices").isEmpty()).isTrue();
		assertThat(usageChunk.get("usage").get("prompt_tokens").asInt()).isEqualTo(3);
		assertThat(usageChunk.get("usage").get("completion_tokens").asInt()).isEqualTo(6);
		assertThat(usageChunk.get("usage").get("total_tokens").asInt()).isEqualTo(9);
	}

	@Test
	void streamingCompletionsWithoutUsageOptionSendsTextChunksThenDone() throws Exception {
		SimulatedInferenceServer server = start(4, FAST);
		HttpResponse<String> response = post(server, "/v1/completions", """
				{"model": "%s", "prompt": "Say three words", "max_tokens": 3, "stream": true}
				""".formatted(MODEL));

		List<String> events = events(response.body());
		assertThat(events).hasSize(4).last().isEqualTo("[DONE]");
		for (String event : events.subList(0, 3)) {
			JsonNode chunk = this.json.readTree(event);
			assertThat(chunk.get("object").stringValue()).isEqualTo("text_completion");
			assertThat(chunk.has("usage")).isFalse();
			assertThat(chunk.at("/choices/0/text").stringValue()).isNotEmpty();
		}
	}

	@Test
	void modelsListsTheServedModel() throws Exception {
		SimulatedInferenceServer server = start(4, FAST);
		HttpResponse<String> response = get(server, "/v1/models");

		assertThat(response.statusCode()).isEqualTo(200);
		JsonNode body = this.json.readTree(response.body());
		assertThat(body.get("object").stringValue()).isEqualTo("list");
		assertThat(body.get("data")).hasSize(1);
		JsonNode model = body.get("data").get(0);
		assertThat(model.get("id").stringValue()).isEqualTo(MODEL);
		assertThat(model.get("object").stringValue()).isEqualTo("model");
		assertThat(model.get("created").asLong()).isEqualTo(NOW.getEpochSecond());
		assertThat(model.get("owned_by").stringValue()).isEqualTo("tiergate-sim");
	}

	@Test
	void metricsExposeVllmGaugesAndCountersWithTheModelLabel() throws Exception {
		SimulatedInferenceServer server = start(4, FAST);
		post(server, "/v1/completions", """
				{"model": "%s", "prompt": "abcdefghijklmnopqrst", "max_tokens": 7}
				""".formatted(MODEL));
		await().untilAsserted(() -> assertThat(server.completed()).isEqualTo(1));

		HttpResponse<String> response = get(server, "/metrics");

		assertThat(response.statusCode()).isEqualTo(200);
		assertThat(response.headers().firstValue("Content-Type"))
			.hasValueSatisfying((type) -> assertThat(type).startsWith("text/plain"));
		String text = response.body();
		assertThat(text).contains("# TYPE vllm:num_requests_running gauge", "# TYPE vllm:num_requests_waiting gauge",
				"# TYPE vllm:gpu_cache_usage_perc gauge", "# TYPE vllm:prompt_tokens_total counter",
				"# TYPE vllm:generation_tokens_total counter", "# HELP vllm:num_requests_running ");
		assertThat(sample(text, "vllm:num_requests_running")).isZero();
		assertThat(sample(text, "vllm:num_requests_waiting")).isZero();
		assertThat(sample(text, "vllm:gpu_cache_usage_perc")).isZero();
		assertThat(sample(text, "vllm:prompt_tokens_total")).isEqualTo(5);
		assertThat(sample(text, "vllm:generation_tokens_total")).isEqualTo(7);
	}

	@Test
	void requestsBeyondTheSlotsWaitUntilASlotFrees() throws Exception {
		SimulatedInferenceServer server = start(2, WATCHABLE);
		List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
		for (int i = 0; i < 5; i++) {
			responses.add(this.http.sendAsync(postRequest(server, "/v1/chat/completions", """
					{"model": "%s", "max_tokens": 400, "messages": [{"role": "user", "content": "Request %d"}]}
					""".formatted(MODEL, i)), BodyHandlers.ofString()));
		}

		await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(5)).untilAsserted(() -> {
			String metrics = get(server, "/metrics").body();
			assertThat(sample(metrics, "vllm:num_requests_running")).isEqualTo(2);
			assertThat(sample(metrics, "vllm:num_requests_waiting")).isEqualTo(3);
			assertThat(sample(metrics, "vllm:gpu_cache_usage_perc")).isPositive();
		});
		assertThat(server.running()).isLessThanOrEqualTo(2);
		for (CompletableFuture<HttpResponse<String>> response : responses) {
			assertThat(response.get().statusCode()).isEqualTo(200);
		}
		await().untilAsserted(() -> assertThat(server.completed()).isEqualTo(5));
		String metrics = get(server, "/metrics").body();
		assertThat(sample(metrics, "vllm:num_requests_running")).isZero();
		assertThat(sample(metrics, "vllm:num_requests_waiting")).isZero();
		assertThat(sample(metrics, "vllm:generation_tokens_total")).isEqualTo(2_000);
	}

	@Test
	void waitingRequestsGetASlotInArrivalOrder() throws Exception {
		SimulatedInferenceServer server = start(1, WATCHABLE);
		List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
		for (int i = 0; i < 3; i++) {
			CompletableFuture<HttpResponse<String>> response = this.http
				.sendAsync(postRequest(server, "/v1/completions", """
						{"model": "%s", "prompt": "Request %d", "max_tokens": 100}
						""".formatted(MODEL, i)), BodyHandlers.ofString());
			response.whenComplete((answer, failure) -> this.arrivals.put(response, System.nanoTime()));
			responses.add(response);
			int waiting = i;
			await().atMost(Duration.ofSeconds(5))
				.pollInterval(Duration.ofMillis(2))
				.until(() -> server.running() == 1 && server.waiting() == waiting);
		}

		// Each takes 100 decode steps (about 120 ms) after the one before it, so the
		// order
		// in which the answers arrive is the order in which the server ran them, however
		// slowly this test's threads are scheduled.
		List<Long> arrivedAt = new ArrayList<>();
		for (CompletableFuture<HttpResponse<String>> response : responses) {
			assertThat(response.get().statusCode()).isEqualTo(200);
		}
		await().atMost(Duration.ofSeconds(5)).until(() -> this.arrivals.size() == responses.size());
		for (CompletableFuture<HttpResponse<String>> response : responses) {
			arrivedAt.add(this.arrivals.get(response));
		}
		assertThat(arrivedAt).as("answered one after the other, in arrival order").isSorted();
	}

	@Test
	void aRequestWithAMoreUrgentPriorityPreemptsALessUrgentOneAndFinishesFirst() throws Exception {
		SimulatedInferenceServer server = start(1, WATCHABLE);
		CompletableFuture<HttpResponse<String>> batch = this.http.sendAsync(postRequest(server, "/v1/completions", """
				{"model": "%s", "prompt": "Batch", "max_tokens": 300, "priority": 2}
				""".formatted(MODEL)), BodyHandlers.ofString());
		await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(2)).until(() -> server.running() == 1);

		HttpResponse<String> urgent = post(server, "/v1/completions", """
				{"model": "%s", "prompt": "Urgent", "max_tokens": 5, "priority": 0}
				""".formatted(MODEL));

		assertThat(urgent.statusCode()).isEqualTo(200);
		assertThat(batch).isNotDone();
		assertThat(batch.get().statusCode()).isEqualTo(200);
		assertThat(this.json.readTree(batch.get().body()).at("/usage/completion_tokens").asInt()).isEqualTo(300);
	}

	@Test
	void aNonIntegerPriorityIsAnswered400() throws Exception {
		SimulatedInferenceServer server = start(1, FAST);

		HttpResponse<String> response = post(server, "/v1/completions", """
				{"model": "%s", "prompt": "x", "max_tokens": 5, "priority": "high"}
				""".formatted(MODEL));

		assertThat(response.statusCode()).isEqualTo(400);
		assertThat(response.body()).contains("priority must be an integer");
	}

	@Test
	void clientDisconnectMidStreamFreesTheSlotAtOnce() throws Exception {
		SimulatedInferenceServer server = start(1, WATCHABLE);
		HttpResponse<InputStream> response = this.http.send(postRequest(server, "/v1/chat/completions", """
				{"model": "%s", "max_tokens": 100000, "stream": true, "messages": [{"role": "user", "content": "Go"}]}
				""".formatted(MODEL)), BodyHandlers.ofInputStream());
		try (InputStream body = response.body()) {
			BufferedReader reader = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8));
			assertThat(reader.readLine()).startsWith("data: ");
			assertThat(server.running()).isEqualTo(1);
		}

		await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
			assertThat(server.running()).isZero();
			assertThat(server.aborted()).isEqualTo(1);
		});
		HttpResponse<String> next = post(server, "/v1/chat/completions", """
				{"model": "%s", "max_tokens": 3, "messages": [{"role": "user", "content": "Next"}]}
				""".formatted(MODEL));
		assertThat(next.statusCode()).isEqualTo(200);
		await().untilAsserted(() -> assertThat(server.completed()).isEqualTo(1));
	}

	@Test
	void wrongModelIsAnswered404WithModelNotFound() throws Exception {
		SimulatedInferenceServer server = start(4, FAST);
		HttpResponse<String> response = post(server, "/v1/chat/completions", """
				{"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}]}
				""");

		assertThat(response.statusCode()).isEqualTo(404);
		JsonNode error = this.json.readTree(response.body()).get("error");
		assertThat(error.get("message").stringValue()).contains("gpt-4o");
		assertThat(error.get("type").stringValue()).isEqualTo("invalid_request_error");
		assertThat(error.get("code").stringValue()).isEqualTo("model_not_found");
	}

	@Test
	void malformedJsonIsAnswered400() throws Exception {
		SimulatedInferenceServer server = start(4, FAST);
		HttpResponse<String> response = post(server, "/v1/chat/completions", "{\"model\": \"" + MODEL + "\", ");

		assertThat(response.statusCode()).isEqualTo(400);
		JsonNode error = this.json.readTree(response.body()).get("error");
		assertThat(error.get("type").stringValue()).isEqualTo("invalid_request_error");
		assertThat(error.get("message").stringValue()).isNotBlank();
		assertThat(server.completed()).isZero();
	}

	@Test
	void missingMessagesOrBadMaxTokensAreAnswered400() throws Exception {
		SimulatedInferenceServer server = start(4, FAST);
		assertThat(post(server, "/v1/chat/completions", "{\"model\": \"" + MODEL + "\"}").statusCode()).isEqualTo(400);
		assertThat(post(server, "/v1/completions", """
				{"model": "%s", "prompt": "a", "max_tokens": 0}
				""".formatted(MODEL)).statusCode()).isEqualTo(400);
		assertThat(post(server, "/v1/completions", "{\"prompt\": \"a\"}").statusCode()).isEqualTo(400);
	}

	@Test
	void failedRequestsBeforeFirstByteGetTheirConnectionClosedWithoutAResponse() throws Exception {
		SimulatedInferenceServer server = start(4, FAST);
		String request = """
				{"model": "%s", "max_tokens": 2, "messages": [{"role": "user", "content": "Hi"}]}
				""".formatted(MODEL);
		server.failNextRequestsBeforeFirstByte(2);

		assertThat(get(server, "/health").statusCode()).isEqualTo(200);
		assertThatExceptionOfType(IOException.class).isThrownBy(() -> post(server, "/v1/chat/completions", request));
		assertThatExceptionOfType(IOException.class).isThrownBy(() -> post(server, "/v1/chat/completions", request));
		assertThat(post(server, "/v1/chat/completions", request).statusCode()).isEqualTo(200);
		assertThat(server.aborted()).isZero();
	}

	@Test
	void injectedServerErrorsAreOpenAiShaped500s() throws Exception {
		SimulatedInferenceServer server = start(4, FAST);
		String request = """
				{"model": "%s", "prompt": "Hi", "max_tokens": 2}
				""".formatted(MODEL);
		server.answerNextRequestsWithServerError(1);

		HttpResponse<String> failed = post(server, "/v1/completions", request);

		assertThat(failed.statusCode()).isEqualTo(500);
		assertThat(this.json.readTree(failed.body()).at("/error/type").stringValue()).isEqualTo("server_error");
		assertThat(post(server, "/v1/completions", request).statusCode()).isEqualTo(200);
	}

	@Test
	void dyingMidStreamCutsEveryRunningStreamAfterAFewTokens() throws Exception {
		SimulatedInferenceServer server = start(2, WATCHABLE);
		String request = """
				{"model": "%s", "max_tokens": 100000, "stream": true, "messages": [{"role": "user", "content": "Go"}]}
				""".formatted(MODEL);
		try (Socket raw = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
			raw.setSoTimeout(10_000);
			byte[] body = request.getBytes(StandardCharsets.UTF_8);
			raw.getOutputStream()
				.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\n"
						+ "Content-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n")
					.getBytes(StandardCharsets.US_ASCII));
			raw.getOutputStream().write(body);
			raw.getOutputStream().flush();
			InputStream rawIn = raw.getInputStream();
			StringBuilder rawReceived = new StringBuilder();
			while (!rawReceived.toString().contains("data: ")) {
				int read = rawIn.read();
				assertThat(read).isNotNegative();
				rawReceived.append((char) read);
			}
			HttpResponse<InputStream> response = this.http.send(postRequest(server, "/v1/chat/completions", request),
					BodyHandlers.ofInputStream());
			BufferedReader client = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8));
			assertThat(client.readLine()).startsWith("data: ");

			server.dieMidStream();

			rawReceived.append(new String(rawIn.readAllBytes(), StandardCharsets.UTF_8));
			assertThat(rawReceived.toString().split("data: ", -1))
				.hasSizeGreaterThan(SimulatedInferenceServer.TOKENS_BEFORE_DYING);
			assertThat(rawReceived.toString()).doesNotContain("[DONE]").doesNotEndWith("0\r\n\r\n");
			List<String> clientReceived = new ArrayList<>();
			assertThatExceptionOfType(IOException.class).isThrownBy(() -> {
				String line;
				while ((line = client.readLine()) != null) {
					clientReceived.add(line);
				}
			});
			assertThat(clientReceived).doesNotContain("data: [DONE]");
		}
		await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
			assertThat(server.running()).isZero();
			assertThat(server.aborted()).isEqualTo(2);
		});
		assertThat(post(server, "/v1/completions", """
				{"model": "%s", "prompt": "Still alive?", "max_tokens": 2}
				""".formatted(MODEL)).statusCode()).isEqualTo(200);
	}

	@Test
	void stoppedServerRefusesConnections() throws Exception {
		SimulatedInferenceServer server = start(4, FAST);
		assertThat(get(server, "/health").statusCode()).isEqualTo(200);

		server.stop();

		assertThatExceptionOfType(ConnectException.class).isThrownBy(() -> get(server, "/health"));
	}

	private SimulatedInferenceServer start(int slots, double timeScale) throws IOException {
		SimulatedInferenceServer server = SimulatedInferenceServer.builder(MODEL, serviceTime(timeScale))
			.slots(slots)
			.clock(Clock.fixed(NOW, ZoneOffset.UTC))
			.build();
		this.servers.add(server);
		return server.start();
	}

	private static GpuServiceTimeModel serviceTime(double timeScale) {
		return new GpuServiceTimeModel(GpuProfile.a100Sxm80gb(), ModelProfile.llama31_8b(), SliceShare.none(),
				timeScale);
	}

	private HttpResponse<String> post(SimulatedInferenceServer server, String path, String body)
			throws IOException, InterruptedException {
		return this.http.send(postRequest(server, path, body), BodyHandlers.ofString());
	}

	private static HttpRequest postRequest(SimulatedInferenceServer server, String path, String body) {
		return HttpRequest.newBuilder(uri(server, path))
			.timeout(Duration.ofSeconds(30))
			.header("Content-Type", "application/json")
			.POST(HttpRequest.BodyPublishers.ofString(body))
			.build();
	}

	private HttpResponse<String> get(SimulatedInferenceServer server, String path)
			throws IOException, InterruptedException {
		return this.http.send(HttpRequest.newBuilder(uri(server, path)).timeout(Duration.ofSeconds(30)).build(),
				BodyHandlers.ofString());
	}

	private static URI uri(SimulatedInferenceServer server, String path) {
		return server.baseUri().resolve(path);
	}

	private static List<String> events(String body) {
		assertThat(body).endsWith("\n\n");
		List<String> events = new ArrayList<>();
		for (String event : body.split("\n\n")) {
			assertThat(event).startsWith("data: ");
			events.add(event.substring("data: ".length()));
		}
		return events;
	}

	private static double sample(String metrics, String name) {
		Matcher matcher = Pattern
			.compile("^" + Pattern.quote(name) + "\\{model_name=\"" + Pattern.quote(MODEL) + "\"\\} (\\S+)$",
					Pattern.MULTILINE)
			.matcher(metrics);
		assertThat(matcher.find()).as("sample of %s in%n%s", name, metrics).isTrue();
		return Double.parseDouble(matcher.group(1));
	}

}
