package dev.tiergate.metering;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The overview's last hour of GPU utilization, engine activity and slot occupancy read
 * from Prometheus ({@code GET /api/v1/query_range}), which scrapes every replica's gauges
 * {@code tiergate_gpu_utilization}, {@code tiergate_gpu_engine_active},
 * {@code tiergate_gpu_slots_inflight} and {@code tiergate_gpu_slots} (all
 * {@code {node,gpu}}). Each point is the mean over one history step, as in
 * {@link GpuMeasurements#history}: the query evaluates {@code avg_over_time(...[step])}
 * at the end of each step and the point is labelled with the step's start. Utilization
 * and engine activity are averaged over the replicas (each reads the same exporters);
 * slots in flight are summed over them (each counts its own requests) and divided by the
 * GPU's slots.
 * <p>
 * The three queries run in parallel and the whole read is bounded by one timeout that
 * covers the bodies too (the JDK client's request timeout stops at the headers). Any
 * failure (no connection, timeout, an HTTP error, an error status, JSON that is not a
 * matrix) is a {@link Failed} with a short reason, never an exception.
 */
public final class PrometheusHistory {

	static final String UTILIZATION = "avg by (node, gpu) (avg_over_time(tiergate_gpu_utilization[%s]))";

	static final String ENGINE_ACTIVE = "avg by (node, gpu) (avg_over_time(tiergate_gpu_engine_active[%s]))";

	static final String OCCUPANCY = "sum by (node, gpu) (avg_over_time(tiergate_gpu_slots_inflight[%1$s])) "
			+ "/ (max by (node, gpu) (max_over_time(tiergate_gpu_slots[%1$s])) > 0)";

	private static final int MAX_REASON = 200;

	private static final JsonMapper json = JsonMapper.builder().build();

	private final URI queryRange;

	private final Duration timeout;

	private final String authorization;

	private final long stepMillis;

	private final int buckets;

	private final HttpClient http;

	/**
	 * A reader.
	 * @param properties the Prometheus address, timeout and credentials
	 * @param history how far back (an hour)
	 * @param step the width of one point
	 */
	public PrometheusHistory(MetricsProperties properties, Duration history, Duration step) {
		String base = properties.prometheusUrl().toString();
		this.queryRange = URI.create(base.replaceAll("/+$", "") + "/api/v1/query_range");
		this.timeout = properties.prometheusTimeout();
		this.authorization = authorization(properties);
		this.stepMillis = Math.max(1, step.toMillis());
		this.buckets = (int) Math.max(1, history.toMillis() / this.stepMillis);
		this.http = HttpClient.newBuilder()
			.version(HttpClient.Version.HTTP_1_1)
			.connectTimeout(this.timeout)
			.followRedirects(HttpClient.Redirect.NEVER)
			.build();
	}

	private static String authorization(MetricsProperties properties) {
		if (properties.prometheusBearerToken() != null && !properties.prometheusBearerToken().isBlank()) {
			return "Bearer " + properties.prometheusBearerToken();
		}
		if (properties.prometheusUsername() != null && !properties.prometheusUsername().isBlank()) {
			String password = (properties.prometheusPassword() != null) ? properties.prometheusPassword() : "";
			return "Basic " + Base64.getEncoder()
				.encodeToString((properties.prometheusUsername() + ":" + password).getBytes(StandardCharsets.UTF_8));
		}
		return null;
	}

	/**
	 * Reads the last hour.
	 * @param now the time now
	 * @return the history per GPU, or why it could not be read
	 */
	public Outcome read(Instant now) {
		long newest = Math.floorDiv(now.toEpochMilli(), this.stepMillis);
		// Evaluated at each step's end, the newest (current) step's included.
		long start = (newest - this.buckets + 2) * this.stepMillis;
		long end = (newest + 1) * this.stepMillis;
		String window = this.stepMillis + "ms";
		List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
		for (String query : List.of(UTILIZATION, ENGINE_ACTIVE, OCCUPANCY)) {
			calls.add(this.http.sendAsync(request(query.formatted(window), start, end),
					HttpResponse.BodyHandlers.ofString()));
		}
		List<HttpResponse<String>> responses = new ArrayList<>();
		try {
			CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new))
				.get(this.timeout.toMillis(), TimeUnit.MILLISECONDS);
			for (CompletableFuture<HttpResponse<String>> call : calls) {
				responses.add(call.get());
			}
		}
		catch (TimeoutException ex) {
			calls.forEach((call) -> call.cancel(true));
			return notInTime();
		}
		catch (InterruptedException ex) {
			calls.forEach((call) -> call.cancel(true));
			Thread.currentThread().interrupt();
			return new Failed("interrupted");
		}
		catch (ExecutionException ex) {
			calls.forEach((call) -> call.cancel(true));
			Throwable cause = (ex.getCause() != null) ? ex.getCause() : ex;
			if (cause instanceof HttpTimeoutException) {
				// the request's own timeout, the same length, fired first
				return notInTime();
			}
			String message = cause.getMessage();
			return new Failed(shorten("Prometheus unreachable: " + cause.getClass().getSimpleName()
					+ ((message != null) ? " " + message : "")));
		}
		try {
			Map<String, TreeMap<Long, Double>> utilization = matrix(responses.get(0));
			if (utilization.isEmpty()) {
				return new Failed("Prometheus has no tiergate_gpu_utilization series in the last "
						+ Duration.ofMillis(this.buckets * this.stepMillis).toMinutes()
						+ " min (does it scrape Tiergate?)");
			}
			return new Read(merge(utilization, matrix(responses.get(1)), matrix(responses.get(2)), this.stepMillis));
		}
		catch (InvalidAnswerException ex) {
			return new Failed(shorten(ex.getMessage()));
		}
	}

	private Failed notInTime() {
		return new Failed("Prometheus did not answer within " + this.timeout.toMillis() + " ms");
	}

	private HttpRequest request(String query, long startMillis, long endMillis) {
		String parameters = "query=" + URLEncoder.encode(query, StandardCharsets.UTF_8) + "&start="
				+ seconds(startMillis) + "&end=" + seconds(endMillis) + "&step=" + seconds(this.stepMillis);
		HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(this.queryRange + "?" + parameters))
			.timeout(this.timeout)
			.header("Accept", "application/json")
			.GET();
		if (this.authorization != null) {
			request.header("Authorization", this.authorization);
		}
		return request.build();
	}

	private static String seconds(long millis) {
		return (millis % 1000 == 0) ? Long.toString(millis / 1000)
				: java.math.BigDecimal.valueOf(millis, 3).toPlainString();
	}

	private static Map<String, TreeMap<Long, Double>> matrix(HttpResponse<String> response) {
		if (response.statusCode() / 100 != 2) {
			String error = null;
			try {
				error = errorOf(json.readTree(response.body()));
			}
			catch (JacksonException ex) {
				// Not Prometheus' error JSON (a proxy's page, say): the status says
				// enough.
			}
			throw new InvalidAnswerException(
					"Prometheus answered HTTP " + response.statusCode() + ((error != null) ? ": " + error : ""));
		}
		return parseMatrix(response.body());
	}

	/**
	 * Reads a {@code query_range} answer whose series carry {@code node} and {@code gpu}
	 * labels.
	 * @param body the answer's body
	 * @return each series' values by time (epoch milliseconds), by {@code node/gpu}
	 * @throws InvalidAnswerException when it is not a successful matrix answer
	 */
	static Map<String, TreeMap<Long, Double>> parseMatrix(String body) {
		JsonNode root;
		try {
			root = json.readTree(body);
		}
		catch (JacksonException ex) {
			throw new InvalidAnswerException("Prometheus answered no valid JSON");
		}
		if (root == null || !root.isObject()) {
			throw new InvalidAnswerException("Prometheus answered no valid JSON");
		}
		if (!"success".equals(root.path("status").asString(""))) {
			String error = errorOf(root);
			throw new InvalidAnswerException(
					"Prometheus answered an error" + ((error != null) ? ": " + error : " without status success"));
		}
		JsonNode data = root.path("data");
		String type = data.path("resultType").asString("");
		if (!"matrix".equals(type)) {
			throw new InvalidAnswerException("Prometheus answered resultType '" + type + "', not matrix");
		}
		JsonNode result = data.path("result");
		if (!result.isArray()) {
			throw new InvalidAnswerException("Prometheus answered a matrix without result");
		}
		Map<String, TreeMap<Long, Double>> series = new TreeMap<>();
		for (JsonNode one : result) {
			JsonNode metric = one.path("metric");
			String node = metric.path("node").asString(null);
			String gpu = metric.path("gpu").asString(null);
			JsonNode values = one.path("values");
			if (node == null || gpu == null || !values.isArray()) {
				continue;
			}
			TreeMap<Long, Double> points = series.computeIfAbsent(node + "/" + gpu, (key) -> new TreeMap<>());
			for (JsonNode pair : values) {
				if (!pair.isArray() || pair.size() != 2 || !pair.get(0).isNumber()) {
					throw new InvalidAnswerException("Prometheus answered a sample that is not [time, \"value\"]");
				}
				long at = Math.round(pair.get(0).asDouble() * 1000);
				points.put(at, value(pair.get(1).asString("")));
			}
		}
		return series;
	}

	private static double value(String text) {
		return switch (text) {
			case "NaN" -> Double.NaN;
			case "+Inf", "Inf" -> Double.POSITIVE_INFINITY;
			case "-Inf" -> Double.NEGATIVE_INFINITY;
			default -> {
				try {
					yield Double.parseDouble(text);
				}
				catch (NumberFormatException ex) {
					throw new InvalidAnswerException("Prometheus answered a value that is not a number");
				}
			}
		};
	}

	private static String errorOf(JsonNode root) {
		if (root == null) {
			return null;
		}
		String type = root.path("errorType").asString("");
		String error = root.path("error").asString("");
		if (type.isEmpty() && error.isEmpty()) {
			return null;
		}
		return type.isEmpty() ? error : error.isEmpty() ? type : type + ": " + error;
	}

	/**
	 * Puts the three series together as the history's points: one per utilization sample,
	 * labelled with the start of the step it averages.
	 * @param utilization utilization (0 to 1) by GPU
	 * @param engineActive engine activity by GPU
	 * @param occupancy slot occupancy by GPU
	 * @param stepMillis the step
	 * @return one history per GPU, sorted by {@code node/gpu}
	 */
	static List<GpuMeasurements.History> merge(Map<String, TreeMap<Long, Double>> utilization,
			Map<String, TreeMap<Long, Double>> engineActive, Map<String, TreeMap<Long, Double>> occupancy,
			long stepMillis) {
		List<GpuMeasurements.History> result = new ArrayList<>();
		new TreeMap<>(utilization).forEach((key, values) -> {
			int slash = key.lastIndexOf('/');
			Map<Long, Double> active = engineActive.getOrDefault(key, new TreeMap<>());
			Map<Long, Double> slots = occupancy.getOrDefault(key, new TreeMap<>());
			List<GpuMeasurements.Point> points = new ArrayList<>();
			values.forEach((at, util) -> {
				if (Double.isFinite(util)) {
					points.add(new GpuMeasurements.Point(Instant.ofEpochMilli(at - stepMillis), util,
							finite(active.get(at)), finite(slots.get(at))));
				}
			});
			result.add(new GpuMeasurements.History(key.substring(0, slash), key.substring(slash + 1), points));
		});
		return result;
	}

	private static double finite(Double value) {
		return (value != null && Double.isFinite(value)) ? value : Double.NaN;
	}

	private static String shorten(String reason) {
		return (reason.length() <= MAX_REASON) ? reason : reason.substring(0, MAX_REASON - 1) + "…";
	}

	/**
	 * What a read gave.
	 */
	public sealed interface Outcome permits Read, Failed {

	}

	/**
	 * The history as Prometheus has it.
	 *
	 * @param gpus one history per GPU, sorted by node and GPU
	 */
	public record Read(List<GpuMeasurements.History> gpus) implements Outcome {

	}

	/**
	 * No usable answer.
	 *
	 * @param reason why, short, for the answer's warning
	 */
	public record Failed(String reason) implements Outcome {

	}

	/**
	 * An answer that is not a successful {@code query_range} matrix.
	 */
	static final class InvalidAnswerException extends RuntimeException {

		InvalidAnswerException(String message) {
			super(message);
		}

	}

}
