package dev.tiergate.metering;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link GpuHistories}: the history from Prometheus when it answers, else this
 * replica's memory with a warning, against a real local HTTP server that answers as
 * Prometheus does (the recorded answers), with a 500, with garbage, too slowly, or not at
 * all.
 */
class GpuHistoriesTests {

	private static final Instant NOW = Instant.parse("2026-11-30T03:00:12Z");

	private static final Duration TIMEOUT = Duration.ofMillis(400);

	private final GpuMeasurements measurements = new GpuMeasurements(Duration.ofMinutes(1), Duration.ofHours(1),
			Duration.ofSeconds(5));

	private final Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);

	private final ConcurrentLinkedQueue<HttpExchange> requests = new ConcurrentLinkedQueue<>();

	private final ConcurrentLinkedQueue<Map<String, String>> queries = new ConcurrentLinkedQueue<>();

	private volatile Function<String, Answer> answer;

	private HttpServer server;

	private ExecutorService executor;

	@BeforeEach
	void start() throws IOException {
		DcgmReadings readings = new DcgmReadings();
		readings.scraped("gpu-operator/dcgm-n1", """
				# TYPE DCGM_FI_DEV_GPU_UTIL gauge
				DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-a",modelName="NVIDIA A100-SXM4-80GB",Hostname="n1"} 40
				""", NOW);
		this.measurements.observe(readings.readings(NOW, Duration.ofMinutes(1)), NOW, List.of(),
				Map.of("gpu-operator/dcgm-n1", "memory-node"));
		this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
		this.executor = Executors.newVirtualThreadPerTaskExecutor();
		this.server.setExecutor(this.executor);
		this.server.createContext("/", this::handle);
		this.server.start();
	}

	@AfterEach
	void stop() {
		this.server.stop(0);
		this.executor.shutdownNow();
	}

	private void handle(HttpExchange exchange) throws IOException {
		try (exchange) {
			this.requests.add(exchange);
			Map<String, String> parameters = new java.util.HashMap<>();
			String raw = exchange.getRequestURI().getRawQuery();
			for (String pair : (raw != null) ? raw.split("&") : new String[0]) {
				int equals = pair.indexOf('=');
				parameters.put(pair.substring(0, equals),
						URLDecoder.decode(pair.substring(equals + 1), StandardCharsets.UTF_8));
			}
			parameters.put("path", exchange.getRequestURI().getPath());
			parameters.put("authorization", String.valueOf(exchange.getRequestHeaders().getFirst("Authorization")));
			this.queries.add(parameters);
			Answer answer = this.answer.apply(parameters.getOrDefault("query", ""));
			if (answer.delay().isPositive()) {
				try {
					Thread.sleep(answer.delay());
				}
				catch (InterruptedException ex) {
					return;
				}
			}
			byte[] body = answer.body().getBytes(StandardCharsets.UTF_8);
			exchange.getResponseHeaders().set("Content-Type", "application/json");
			exchange.sendResponseHeaders(answer.status(), body.length);
			try (OutputStream out = exchange.getResponseBody()) {
				out.write(body);
			}
		}
	}

	private static String recorded(String name) {
		try (InputStream in = GpuHistoriesTests.class.getResourceAsStream("prometheus-query-range-" + name + ".json")) {
			return new String(in.readAllBytes(), StandardCharsets.UTF_8);
		}
		catch (IOException ex) {
			throw new java.io.UncheckedIOException(ex);
		}
	}

	private static Answer recordedAnswerFor(String query) {
		if (query.contains("tiergate_gpu_utilization")) {
			return new Answer(200, recorded("utilization"), Duration.ZERO);
		}
		if (query.contains("tiergate_gpu_engine_active")) {
			return new Answer(200, recorded("engine-active"), Duration.ZERO);
		}
		return new Answer(200, recorded("occupancy"), Duration.ZERO);
	}

	private GpuHistories histories(MetricsProperties properties) {
		return new GpuHistories(this.measurements,
				new PrometheusHistory(properties, Duration.ofMinutes(1), Duration.ofSeconds(5)), this.clock);
	}

	private MetricsProperties prometheus(String bearer, String user, String password) {
		return new MetricsProperties(URI.create("http://127.0.0.1:" + this.server.getAddress().getPort() + "/prom/"),
				TIMEOUT, bearer, user, password);
	}

	private void assertMemoryWith(GpuHistory history, String warning) {
		assertThat(history.source()).isEqualTo(GpuHistory.MEMORY);
		assertThat(history.warning()).contains(warning).endsWith("showing this replica's own history since its start");
		assertThat(history.gpus()).extracting(GpuMeasurements.History::node).containsExactly("memory-node");
	}

	@Test
	void withoutPrometheusTheHistoryIsThisReplicasMemoryWithoutWarning() {
		GpuHistory history = new GpuHistories(this.measurements, null, this.clock).lastHour();

		assertThat(history.source()).isEqualTo(GpuHistory.MEMORY);
		assertThat(history.warning()).isNull();
		assertThat(history.gpus()).singleElement().satisfies((gpu) -> {
			assertThat(gpu.node()).isEqualTo("memory-node");
			assertThat(gpu.points()).singleElement().extracting(GpuMeasurements.Point::utilization).isEqualTo(0.4);
		});
	}

	@Test
	void prometheusAnswersAreTheHistoryAndTheQueriesAskForTheLastHourInSteps() {
		this.answer = GpuHistoriesTests::recordedAnswerFor;

		GpuHistory history = histories(prometheus("s3cret", "ignored", "ignored")).lastHour();

		assertThat(history.source()).isEqualTo(GpuHistory.PROMETHEUS);
		assertThat(history.warning()).isNull();
		assertThat(history.gpus()).extracting((gpu) -> gpu.node() + "/" + gpu.gpu())
			.containsExactly("gpu-node-1/0", "gpu-node-1/1", "gpu-node-2/0");
		assertThat(history.gpus().get(0).points()).allSatisfy((point) -> {
			assertThat(point.utilization()).isEqualTo(0.75);
			assertThat(point.slotOccupancy()).isEqualTo(0.25);
		});
		assertThat(this.queries).hasSize(3).allSatisfy((query) -> {
			assertThat(query.get("path")).isEqualTo("/prom/api/v1/query_range");
			// Steps end at 03:00:15 (the current one included) and 12 steps of 5 s make
			// the minute.
			assertThat(query.get("end")).isEqualTo(String.valueOf(NOW.plusSeconds(3).getEpochSecond()));
			assertThat(query.get("start")).isEqualTo(String.valueOf(NOW.plusSeconds(3 - 55).getEpochSecond()));
			assertThat(query.get("step")).isEqualTo("5");
			assertThat(query.get("query")).contains("[5000ms]").contains("by (node, gpu)");
			assertThat(query.get("authorization")).isEqualTo("Bearer s3cret");
		});
	}

	@Test
	void basicCredentialsAreSentWhenNoTokenIsSet() {
		this.answer = GpuHistoriesTests::recordedAnswerFor;

		assertThat(histories(prometheus(null, "viewer", "pw")).lastHour().source()).isEqualTo(GpuHistory.PROMETHEUS);
		assertThat(this.queries).allSatisfy((query) -> assertThat(query.get("authorization"))
			.isEqualTo("Basic " + java.util.Base64.getEncoder().encodeToString("viewer:pw".getBytes())));
	}

	@Test
	void aServerErrorFallsBackToMemoryWithAWarning() {
		this.answer = (query) -> new Answer(500, "oops", Duration.ZERO);

		assertMemoryWith(histories(prometheus(null, null, null)).lastHour(), "Prometheus answered HTTP 500");
	}

	@Test
	void prometheusOwnErrorIsQuotedInTheWarning() {
		this.answer = (query) -> new Answer(422, recorded("bad-data"), Duration.ZERO);

		assertMemoryWith(histories(prometheus(null, null, null)).lastHour(), "HTTP 422: bad_data: 1:14: parse error");
	}

	@Test
	void garbageFallsBackToMemoryWithAWarning() {
		this.answer = (query) -> new Answer(200, "{\"status\":\"succ", Duration.ZERO);

		assertMemoryWith(histories(prometheus(null, null, null)).lastHour(), "Prometheus answered no valid JSON");
	}

	@Test
	void noTiergateSeriesFallsBackToMemoryWithAWarning() {
		this.answer = (query) -> new Answer(200,
				"{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[]}}", Duration.ZERO);

		assertMemoryWith(histories(prometheus(null, null, null)).lastHour(),
				"Prometheus has no tiergate_gpu_utilization series");
	}

	@Test
	void aSlowPrometheusFallsBackToMemoryOnceTheTimeoutIsOver() {
		// Headers and body both late, one query only: the timeout covers the whole read.
		this.answer = (query) -> query.contains("slots") ? new Answer(200, recorded("occupancy"), Duration.ofSeconds(5))
				: recordedAnswerFor(query);
		GpuHistories histories = histories(prometheus(null, null, null));

		long started = System.nanoTime();
		GpuHistory history = histories.lastHour();
		Duration took = Duration.ofNanos(System.nanoTime() - started);

		assertMemoryWith(history, "Prometheus did not answer within 400 ms");
		assertThat(took).isGreaterThanOrEqualTo(TIMEOUT).isLessThan(Duration.ofMillis(2500));
	}

	@Test
	void anUnreachablePrometheusFallsBackToMemoryWithAWarning() throws IOException {
		int closed;
		try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
			closed = socket.getLocalPort();
		}
		MetricsProperties properties = new MetricsProperties(URI.create("http://127.0.0.1:" + closed), TIMEOUT, null,
				null, null);

		assertMemoryWith(histories(properties).lastHour(), "Prometheus unreachable: ConnectException");
	}

	@Test
	void prometheusIsUsedAgainOnceItAnswers() {
		this.answer = (query) -> new Answer(503, "", Duration.ZERO);
		GpuHistories histories = histories(prometheus(null, null, null));
		assertThat(histories.lastHour().source()).isEqualTo(GpuHistory.MEMORY);

		this.answer = GpuHistoriesTests::recordedAnswerFor;

		assertThat(histories.lastHour().source()).isEqualTo(GpuHistory.PROMETHEUS);
	}

	private record Answer(int status, String body, Duration delay) {

	}

}
