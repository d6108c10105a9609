package dev.tiergate.bench;

import java.io.BufferedReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

import dev.tiergate.EmbeddedDefaults;
import dev.tiergate.LocalRedis;
import dev.tiergate.TiergateApplication;
import dev.tiergate.fleet.SimulatedGpuFleet;
import dev.tiergate.metering.GpuMeasurements;

/**
 * What the embedded fleet measures through Tiergate's DCGM path (docs/cost-model.md, "The
 * seed's claims, checked"): starts the default fleet ({@code mps}) or its GPUs unshared
 * ({@code whole}) at an A100's real speed, Tiergate in-process on it, then replays the
 * Azure conversation trace from its start at its own rate to the llama pool (P0 for 3
 * requests in 10, P1 for the rest) for a phase, then the same with a batch backlog (P2
 * threads that keep every llama slot asked for), and prints each phase's mean measured
 * utilization, engine activity and slot occupancy over the GPUs, from the history
 * Tiergate keeps (the first 20 s of a phase left out).
 * <p>
 * {@code java ... dev.tiergate.bench.GpuUtilizationProbe <mps|whole> <seconds per phase> <azure-2023-conv.csv>}
 */
public final class GpuUtilizationProbe {

	private GpuUtilizationProbe() {
	}

	public static void main(String[] args) throws Exception {
		boolean mps = args[0].equals("mps");
		Duration phase = Duration.ofSeconds(Long.parseLong(args[1]));
		List<long[]> rows = readTrace(Path.of(args[2]));
		SimulatedGpuFleet fleet = mps ? SimulatedGpuFleet.startDefault(1.0) : SimulatedGpuFleet.startWholeGpus(1.0);
		ConfigurableApplicationContext app = new SpringApplicationBuilder(TiergateApplication.class,
				EmbeddedDefaults.class)
			.properties(Map.of("server.port", "0", "management.server.port", "0", "spring.data.redis.database",
					Integer.toString(LocalRedis.TEST_DATABASE), "tiergate.cluster.api-server", fleet.apiServerUrl(),
					"tiergate.metering.dcgm.scrape-interval", "1s", "tiergate.metering.dcgm.history-step", "5s",
					"logging.level.root", "WARN"))
			.run();
		int port = ((WebServerApplicationContext) app).getWebServer().getPort();
		GpuMeasurements measurements = app.getBean(GpuMeasurements.class);
		Clock clock = app.getBean(Clock.class);
		HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
		Map<String, AtomicLong> statuses = new ConcurrentHashMap<>();
		Thread.sleep(10_000);
		AtomicBoolean batching = new AtomicBoolean();
		AtomicBoolean stop = new AtomicBoolean();
		Instant started = clock.instant();
		try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
			// Online: the trace at its own rate.
			threads.execute(() -> {
				long t0 = System.nanoTime();
				for (int i = 0; i < rows.size() && !stop.get(); i++) {
					long[] row = rows.get(i);
					long due = t0 + row[0];
					long wait = due - System.nanoTime();
					if (wait > 0) {
						try {
							Thread.sleep(Duration.ofNanos(wait));
						}
						catch (InterruptedException ex) {
							return;
						}
					}
					String tier = (i % 10 < 3) ? "P0" : "P1";
					threads.execute(() -> call(http, port, EmbeddedDefaults.ACME_KEY, tier, row, statuses));
				}
			});
			Thread.sleep(phase.toMillis());
			Instant batchFrom = clock.instant();
			batching.set(true);
			int slots = fleet.servers(SimulatedGpuFleet.LLAMA).stream().mapToInt((s) -> s.slots()).sum();
			for (int i = 0; i < slots; i++) {
				int first = i;
				threads.execute(() -> {
					for (int n = first; !stop.get(); n += 997) {
						call(http, port, EmbeddedDefaults.BATCHCO_KEY, "P2", rows.get(n % rows.size()), statuses);
					}
				});
			}
			Thread.sleep(phase.toMillis());
			Instant end = clock.instant();
			stop.set(true);
			report(mps ? "MPS 4 x 8 GPUs (default fleet)" : "whole GPUs (8)", "online", measurements, clock,
					started.plusSeconds(20), batchFrom);
			report(mps ? "MPS 4 x 8 GPUs (default fleet)" : "whole GPUs (8)", "online + batch", measurements, clock,
					batchFrom.plusSeconds(20), end);
			System.out.println("statuses " + statuses);
			System.out.flush();
			Runtime.getRuntime().halt(0);
		}
	}

	private static void report(String fleet, String load, GpuMeasurements measurements, Clock clock, Instant from,
			Instant to) {
		double util = 0;
		double active = 0;
		double occupancy = 0;
		int n = 0;
		int m = 0;
		int o = 0;
		for (GpuMeasurements.History gpu : measurements.history(clock.instant())) {
			for (GpuMeasurements.Point point : gpu.points()) {
				if (point.at().isBefore(from) || !point.at().isBefore(to)) {
					continue;
				}
				util += point.utilization();
				n++;
				if (!Double.isNaN(point.engineActive())) {
					active += point.engineActive();
					m++;
				}
				if (!Double.isNaN(point.slotOccupancy())) {
					occupancy += point.slotOccupancy();
					o++;
				}
			}
		}
		System.out.printf(Locale.ROOT,
				"%s, %s: DCGM_FI_DEV_GPU_UTIL %.1f%%, DCGM_FI_PROF_GR_ENGINE_ACTIVE %.1f%%, slot occupancy %.1f%% (%d GPU samples, %s to %s)%n",
				fleet, load, 100 * util / Math.max(1, n), 100 * active / Math.max(1, m),
				100 * occupancy / Math.max(1, o), n, from, to);
	}

	private static void call(HttpClient http, int port, String key, String tier, long[] row,
			Map<String, AtomicLong> statuses) {
		String body = """
				{"model":"%s","messages":[{"role":"user","content":"%s"}],"max_tokens":%d}"""
			.formatted(SimulatedGpuFleet.LLAMA, "word".repeat((int) Math.min(row[1], 8000)), Math.max(1, row[2]));
		try {
			HttpResponse<Void> response = http
				.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
					.timeout(Duration.ofMinutes(10))
					.header("Content-Type", "application/json")
					.header("Authorization", "Bearer " + key)
					.header("X-Tiergate-Priority", tier)
					.POST(HttpRequest.BodyPublishers.ofString(body))
					.build(), HttpResponse.BodyHandlers.discarding());
			statuses.computeIfAbsent(tier + " " + response.statusCode(), (k) -> new AtomicLong()).incrementAndGet();
		}
		catch (Exception ex) {
			statuses.computeIfAbsent(tier + " " + ex.getClass().getSimpleName(), (k) -> new AtomicLong())
				.incrementAndGet();
		}
	}

	/**
	 * Rows of the Azure trace: {nanoseconds since the first, prompt tokens, output
	 * tokens}.
	 */
	private static List<long[]> readTrace(Path path) throws Exception {
		DateTimeFormatter format = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSSS");
		List<long[]> rows = new ArrayList<>();
		try (BufferedReader in = Files.newBufferedReader(path)) {
			in.readLine();
			String line;
			Instant first = null;
			while ((line = in.readLine()) != null) {
				String[] f = line.split(",");
				Instant at = LocalDateTime.parse(f[0], format).toInstant(java.time.ZoneOffset.UTC);
				if (first == null) {
					first = at;
				}
				rows.add(new long[] { Duration.between(first, at).toNanos(), Long.parseLong(f[1]),
						Long.parseLong(f[2]) });
			}
		}
		return rows;
	}

}
