package dev.tiergate.bench;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.dao.DataAccessException;
import org.springframework.data.redis.connection.stream.StreamInfo;
import org.springframework.data.redis.core.RedisCallback;
import org.springframework.data.redis.core.StringRedisTemplate;

import dev.tiergate.EmbeddedDefaults;
import dev.tiergate.TiergateApplication;
import dev.tiergate.dispatch.DispatchRuntime;
import dev.tiergate.dispatch.PoolSnapshot;
import dev.tiergate.fleet.SimulatedGpuFleet;
import dev.tiergate.routing.EndpointRegistry;
import dev.tiergate.tier.Tier;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The batch benchmark ({@code bench/batch.sh}): the embedded fleet (20 llama pods x 8
 * slots = 160 slots; in a process of its own when {@code --fleet-api-server} names its
 * Kubernetes API stand-in, else in this JVM) and Tiergate in this JVM, on a Redis of the
 * script's own (so that {@code INFO commandstats} counts Tiergate's commands only), and
 * one batch of small chat completions with no other traffic. A warm-up batch runs first,
 * unmeasured.
 * <p>
 * Measured: Redis commands per item and their server time ({@code INFO commandstats}
 * before and after the measured batch, divided by its items; the benchmark's own
 * monitoring commands, {@code INFO} and {@code XINFO}, are left out), and slot use: every
 * 100 ms the dispatcher's busy and accepting slots of the pool, with the P2 leases and
 * the stream's unread items (from {@code XINFO GROUPS}' last delivered id). The steady
 * window runs from the first sample at 95% or more (the ramp-up before it is reported
 * apart) to the last sample with unread items in the stream (after it, the batch has too
 * few items left to fill the pool: the tail).
 * <p>
 * {@code java ... dev.tiergate.bench.BatchBenchmark --redis-port P --items 10000
 * --max-tokens 64 --time-scale 0.05 --warmup-items 2000 --out result.json}
 */
public final class BatchBenchmark {

	private static final JsonMapper json = JsonMapper.builder().build();

	private static final String BOUNDARY = "tiergate-bench-boundary";

	private static final HttpClient http = HttpClient.newBuilder()
		.version(HttpClient.Version.HTTP_1_1)
		.connectTimeout(Duration.ofSeconds(5))
		.build();

	private BatchBenchmark() {
	}

	public static void main(String[] args) throws Exception {
		Map<String, String> options = new HashMap<>();
		for (int i = 0; i + 1 < args.length; i += 2) {
			options.put(args[i].replaceFirst("^--", ""), args[i + 1]);
		}
		int redisPort = Integer.parseInt(options.getOrDefault("redis-port", "6379"));
		int items = Integer.parseInt(options.getOrDefault("items", "10000"));
		int warmupItems = Integer.parseInt(options.getOrDefault("warmup-items", "2000"));
		int maxTokens = Integer.parseInt(options.getOrDefault("max-tokens", "64"));
		double timeScale = Double.parseDouble(options.getOrDefault("time-scale", "0.05"));
		Path out = Path.of(options.getOrDefault("out", "batch-benchmark.json"));
		List<String> extra = new ArrayList<>();
		options.forEach((k, v) -> {
			if (k.startsWith("tiergate.")) {
				extra.add("--" + k + "=" + v);
			}
		});

		// bench/batch.sh runs the fleet in a process of its own
		// (dev.tiergate.bench.FleetProcess)
		// and passes its API server, so that the 160 simulated engines do not take this
		// JVM's
		// CPU; without --fleet-api-server the fleet starts here, as in earlier runs.
		String externalFleet = options.get("fleet-api-server");
		SimulatedGpuFleet fleet = (externalFleet != null) ? null : SimulatedGpuFleet.startDefault(timeScale);
		String apiServer = (fleet != null) ? fleet.apiServerUrl() : externalFleet;
		List<String> arguments = new ArrayList<>(
				List.of("--server.port=0", "--management.server.port=0", "--spring.data.redis.host=127.0.0.1",
						"--spring.data.redis.port=" + redisPort, "--tiergate.cluster.api-server=" + apiServer,
						"--logging.level.root=WARN", "--logging.level.io.fabric8.mockwebserver=WARN"));
		arguments.addAll(extra);
		ConfigurableApplicationContext context = new SpringApplicationBuilder(TiergateApplication.class,
				EmbeddedDefaults.class)
			.run(arguments.toArray(String[]::new));
		int exit = 0;
		try {
			int port = Integer.parseInt(context.getEnvironment().getProperty("local.server.port"));
			EndpointRegistry registry = context.getBean(EndpointRegistry.class);
			long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
			while (registry.pool(SimulatedGpuFleet.LLAMA).size() < 20 && System.nanoTime() < until) {
				Thread.sleep(100);
			}
			Run run = new Run(port, context.getBean(DispatchRuntime.class), context.getBean(StringRedisTemplate.class));
			if (warmupItems > 0) {
				System.err.println("bench: warm-up batch of " + warmupItems + " items");
				run.batch(warmupItems, maxTokens, "warmup", false);
			}
			System.err.println("bench: measured batch of " + items + " items");
			Map<String, Object> result = run.batch(items, maxTokens, "measured", true);
			result.put("timeScale", timeScale);
			result.put("maxTokens", maxTokens);
			result.put("settings", extra);
			result.put("fleet", (fleet != null) ? "in this JVM" : "own process");
			Files.writeString(out, json.writerWithDefaultPrettyPrinter().writeValueAsString(result));
			System.err.println("bench: wrote " + out);
		}
		catch (RuntimeException ex) {
			ex.printStackTrace();
			exit = 1;
		}
		finally {
			context.close();
			if (fleet != null) {
				fleet.close();
			}
		}
		System.exit(exit);
	}

	/** One application under measurement. */
	private record Run(int port, DispatchRuntime dispatcher, StringRedisTemplate redis) {

		Map<String, Object> batch(int items, int maxTokens, String name, boolean measure) throws Exception {
			String fileId = upload(items, maxTokens, name);
			Map<String, double[]> before = commandStats();
			long startNanos = System.nanoTime();
			JsonNode created = json.readTree(post("/v1/batches", """
					{"input_file_id":"%s","endpoint":"/v1/chat/completions","completion_window":"24h"}"""
				.formatted(fileId)));
			String id = created.get("id").asString();
			String stream = "tg:batch:{batchco}:batch:" + id + ":items";
			List<long[]> samples = new ArrayList<>();
			JsonNode batch = created;
			long nextPoll = 0;
			while (true) {
				long now = System.nanoTime();
				if (now >= nextPoll) {
					batch = json.readTree(get("/v1/batches/" + id));
					nextPoll = now + Duration.ofMillis(500).toNanos();
					String status = batch.get("status").asString();
					if (!status.equals("validating") && !status.equals("in_progress") && !status.equals("finalizing")) {
						break;
					}
				}
				PoolSnapshot pool = pool();
				samples.add(new long[] { now - startNanos, pool.used(), pool.acceptingSlots(),
						pool.tiers().get(Tier.P2).inFlight(), unread(stream, items) });
				Thread.sleep(100);
			}
			long endNanos = System.nanoTime();
			Map<String, double[]> after = commandStats();
			Map<String, Object> result = new LinkedHashMap<>();
			result.put("batch", id);
			result.put("status", batch.get("status").asString());
			result.put("items", items);
			result.put("completed", batch.get("request_counts").get("completed").asInt());
			result.put("failed", batch.get("request_counts").get("failed").asInt());
			double seconds = (endNanos - startNanos) / 1e9;
			result.put("seconds", seconds);
			result.put("itemsPerSecond", items / seconds);
			if (measure) {
				result.put("redis", redis(before, after, items));
				result.put("slots", slots(samples));
			}
			System.err.println("bench: " + name + " " + json.writeValueAsString(result));
			return result;
		}

		private PoolSnapshot pool() {
			return this.dispatcher.snapshots()
				.stream()
				.filter((p) -> p.pool().equals(SimulatedGpuFleet.LLAMA))
				.findFirst()
				.orElseThrow();
		}

		/**
		 * Entries of the stream not yet delivered to any worker: entry ids are line
		 * numbers, so the group's last delivered id says how many lines were handed out.
		 */
		private long unread(String stream, int items) {
			StreamInfo.XInfoGroups groups;
			try {
				groups = this.redis.opsForStream().groups(stream);
			}
			catch (DataAccessException ex) {
				// Not queued yet, or dropped once the batch ended.
				return -1;
			}
			if (groups == null || groups.isEmpty()) {
				return items;
			}
			String last = groups.get(0).lastDeliveredId();
			long line = (last == null) ? 0 : Long.parseLong(last.substring(0, last.indexOf('-')));
			return Math.max(0, items - line);
		}

		/** {@code INFO commandstats}: calls and microseconds per command. */
		private Map<String, double[]> commandStats() {
			Properties info = this.redis
				.execute((RedisCallback<Properties>) (connection) -> connection.serverCommands().info("commandstats"));
			Map<String, double[]> stats = new TreeMap<>();
			if (info != null) {
				for (String key : info.stringPropertyNames()) {
					if (!key.startsWith("cmdstat_")) {
						continue;
					}
					String name = key.substring("cmdstat_".length());
					if (name.equals("info") || name.startsWith("xinfo")) {
						continue;
					}
					double calls = 0;
					double usec = 0;
					for (String part : info.getProperty(key).split(",")) {
						String[] kv = part.split("=");
						if (kv[0].equals("calls")) {
							calls = Double.parseDouble(kv[1]);
						}
						else if (kv[0].equals("usec")) {
							usec = Double.parseDouble(kv[1]);
						}
					}
					stats.put(name, new double[] { calls, usec });
				}
			}
			return stats;
		}

		private static Map<String, Object> redis(Map<String, double[]> before, Map<String, double[]> after, int items) {
			Map<String, Object> perCommand = new LinkedHashMap<>();
			double calls = 0;
			double usec = 0;
			List<Map.Entry<String, double[]>> deltas = new ArrayList<>();
			for (Map.Entry<String, double[]> entry : after.entrySet()) {
				double[] was = before.getOrDefault(entry.getKey(), new double[2]);
				double[] delta = { entry.getValue()[0] - was[0], entry.getValue()[1] - was[1] };
				if (delta[0] > 0) {
					deltas.add(Map.entry(entry.getKey(), delta));
					calls += delta[0];
					usec += delta[1];
				}
			}
			deltas.sort((a, b) -> Double.compare(b.getValue()[0], a.getValue()[0]));
			for (Map.Entry<String, double[]> delta : deltas) {
				perCommand.put(delta.getKey(), String.format(Locale.ROOT, "%.3f calls/item, %.1f us/item",
						delta.getValue()[0] / items, delta.getValue()[1] / items));
			}
			Map<String, Object> redis = new LinkedHashMap<>();
			redis.put("commands", calls);
			redis.put("commandsPerItem", calls / items);
			redis.put("serverMicrosPerItem", usec / items);
			redis.put("perCommand", perCommand);
			return redis;
		}

		private static Map<String, Object> slots(List<long[]> samples) {
			int first = -1;
			int full = -1;
			int last = -1;
			for (int i = 0; i < samples.size(); i++) {
				long[] s = samples.get(i);
				if (first < 0 && s[3] > 0) {
					first = i;
				}
				if (first >= 0 && full < 0 && s[1] * 100 >= 95 * s[2]) {
					full = i;
				}
				if (s[4] > 0) {
					last = i;
				}
			}
			Map<String, Object> slots = new LinkedHashMap<>();
			slots.put("samples", samples.size());
			slots.put("total", (samples.isEmpty()) ? 0 : samples.get(0)[2]);
			slots.put("whole", share(samples, Math.max(0, first), samples.size() - 1));
			if (full >= 0 && last >= full) {
				slots.put("rampUpSeconds", (samples.get(full)[0] - samples.get(Math.max(0, first))[0]) / 1e9);
				slots.put("steady", share(samples, full, last));
				slots.put("tailSeconds", (samples.get(samples.size() - 1)[0] - samples.get(last)[0]) / 1e9);
			}
			else {
				slots.put("steady", "never reached 95%: first P2 sample " + first + ", last with unread items " + last);
				slots.put("steadyFromFirstItem", share(samples, Math.max(0, first), Math.max(first, last)));
			}
			List<String> trace = new ArrayList<>();
			for (long[] s : samples) {
				trace.add(String.format(Locale.ROOT, "%.1f %d/%d p2=%d unread=%d", s[0] / 1e9, s[1], s[2], s[3], s[4]));
			}
			slots.put("trace", trace);
			return slots;
		}

		private static Map<String, Object> share(List<long[]> samples, int from, int to) {
			double sum = 0;
			int atLeast95 = 0;
			int n = 0;
			for (int i = from; i <= to && i < samples.size(); i++) {
				long[] s = samples.get(i);
				if (s[2] == 0) {
					continue;
				}
				sum += (double) s[1] / s[2];
				atLeast95 += (s[1] * 100 >= 95 * s[2]) ? 1 : 0;
				n++;
			}
			Map<String, Object> share = new LinkedHashMap<>();
			share.put("samples", n);
			share.put("seconds",
					(n > 0) ? (samples.get(Math.min(to, samples.size() - 1))[0] - samples.get(from)[0]) / 1e9 : 0);
			share.put("meanBusyShare", (n > 0) ? sum / n : 0);
			share.put("samplesAtLeast95", (n > 0) ? (double) atLeast95 / n : 0);
			return share;
		}

		private String upload(int items, int maxTokens, String name) throws IOException, InterruptedException {
			ByteArrayOutputStream body = new ByteArrayOutputStream();
			write(body, "--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n");
			write(body, "--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + name
					+ ".jsonl\"\r\nContent-Type: application/jsonl\r\n\r\n");
			for (int i = 0; i < items; i++) {
				write(body,
						"""
								{"custom_id":"%s-%d","method":"POST","url":"/v1/chat/completions","body":{"model":"%s","messages":[{"role":"user","content":"Summarize ticket %d in one line"}],"max_tokens":%d}}
								"""
							.formatted(name, i, SimulatedGpuFleet.LLAMA, i, maxTokens));
			}
			write(body, "\r\n--" + BOUNDARY + "--\r\n");
			HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri("/v1/files"))
				.header("Authorization", "Bearer " + EmbeddedDefaults.BATCHCO_KEY)
				.header("Content-Type", "multipart/form-data; boundary=" + BOUNDARY)
				.POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray()))
				.build(), HttpResponse.BodyHandlers.ofString());
			if (response.statusCode() != 200) {
				throw new IllegalStateException("upload: " + response.statusCode() + " " + response.body());
			}
			return json.readTree(response.body()).get("id").asString();
		}

		private String post(String path, String body) throws IOException, InterruptedException {
			HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri(path))
				.header("Authorization", "Bearer " + EmbeddedDefaults.BATCHCO_KEY)
				.header("Content-Type", "application/json")
				.POST(HttpRequest.BodyPublishers.ofString(body))
				.build(), HttpResponse.BodyHandlers.ofString());
			if (response.statusCode() != 200) {
				throw new IllegalStateException(path + ": " + response.statusCode() + " " + response.body());
			}
			return response.body();
		}

		private String get(String path) throws IOException, InterruptedException {
			return http
				.send(HttpRequest.newBuilder(uri(path))
					.header("Authorization", "Bearer " + EmbeddedDefaults.BATCHCO_KEY)
					.build(), HttpResponse.BodyHandlers.ofString())
				.body();
		}

		private URI uri(String path) {
			return URI.create("http://127.0.0.1:" + this.port + path);
		}

		private static void write(ByteArrayOutputStream out, String text) {
			out.writeBytes(text.getBytes(StandardCharsets.UTF_8));
		}

	}

}
