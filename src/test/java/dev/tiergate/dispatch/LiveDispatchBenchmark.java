package dev.tiergate.dispatch;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

import dev.tiergate.EmbeddedDefaults;
import dev.tiergate.TiergateApplication;
import dev.tiergate.fleet.SimulatedGpuFleet;
import dev.tiergate.tier.Tier;

/**
 * The live-path benchmark (a program, not a test): Tiergate and the simulated fleet in
 * one JVM, a P2 flood that keeps every slot of the {@code llama-3.1-8b-instruct} pool
 * busy with a standing queue, and P0 requests arriving at a steady rate. Reports the P0
 * queue wait the dispatcher measured ({@code x-tiergate-queue-ms}) and the P0 end-to-end
 * latency, with the default 30% reserve.
 * <p>
 * Settings (system properties): {@code bench.seconds} (30), {@code bench.p2Clients}
 * (400), {@code bench.p0PerSecond} (20), {@code bench.timeScale} (0.25),
 * {@code bench.p2Stream} (true: P2 streams, so a preempted P2 call is seen to abort by
 * the engine at its next token). Run: see {@code docs/benchmarks.md}.
 */
public final class LiveDispatchBenchmark {

	private LiveDispatchBenchmark() {
	}

	public static void main(String[] args) throws Exception {
		int seconds = Integer.getInteger("bench.seconds", 30);
		int p2Clients = Integer.getInteger("bench.p2Clients", 400);
		int p0PerSecond = Integer.getInteger("bench.p0PerSecond", 20);
		double timeScale = Double.parseDouble(System.getProperty("bench.timeScale", "0.25"));
		boolean p2Stream = Boolean.parseBoolean(System.getProperty("bench.p2Stream", "true"));
		try (SimulatedGpuFleet fleet = SimulatedGpuFleet.startDefault(timeScale);
				ConfigurableApplicationContext app = SpringApplication.from(TiergateApplication::main)
					.with(EmbeddedDefaults.class)
					.run("--server.port=0", "--management.server.port=0", "--logging.level.root=WARN",
							"--tiergate.cluster.api-server=" + fleet.apiServerUrl())
					.getApplicationContext()) {
			int port = ((WebServerApplicationContext) app).getWebServer().getPort();
			URI uri = URI.create("http://127.0.0.1:" + port + "/v1/chat/completions");
			HttpClient http = HttpClient.newBuilder()
				.version(HttpClient.Version.HTTP_1_1)
				.executor(Executors.newVirtualThreadPerTaskExecutor())
				.build();
			DispatchRuntime runtime = app.getBean(DispatchRuntime.class);
			while (runtime.snapshots()
				.stream()
				.noneMatch((s) -> s.pool().equals(SimulatedGpuFleet.LLAMA) && s.acceptingSlots() == 160)) {
				Thread.sleep(100);
			}
			// Baseline: P0 alone on an idle fleet, for the service time the flood is
			// compared with.
			List<Long> baseline = Collections.synchronizedList(new ArrayList<>());
			try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
				sendP0(clients, http, uri, p0PerSecond, System.nanoTime() + TimeUnit.SECONDS.toNanos(5), baseline,
						Collections.synchronizedList(new ArrayList<>()), new AtomicLong());
			}
			long floodStartMillis = System.currentTimeMillis();
			long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
			AtomicLong p2Done = new AtomicLong();
			AtomicLong p2Shed = new AtomicLong();
			List<Long> p0Queue = Collections.synchronizedList(new ArrayList<>());
			List<Long> p0Total = Collections.synchronizedList(new ArrayList<>());
			AtomicLong p0Failed = new AtomicLong();
			try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
				for (int c = 0; c < p2Clients; c++) {
					clients.submit(() -> {
						while (System.nanoTime() < end) {
							HttpResponse<String> response = http.send(request(uri, "P2", 64, p2Stream),
									HttpResponse.BodyHandlers.ofString());
							(response.statusCode() == 200 ? p2Done : p2Shed).incrementAndGet();
						}
						return null;
					});
				}
				Thread.sleep(3_000);
				sendP0(clients, http, uri, p0PerSecond, end - TimeUnit.SECONDS.toNanos(2), p0Total, p0Queue, p0Failed);
			}
			PoolSnapshot llama = runtime.snapshots()
				.stream()
				.filter((s) -> s.pool().equals(SimulatedGpuFleet.LLAMA))
				.findFirst()
				.orElseThrow();
			System.out.printf(
					"%nLive dispatch benchmark: %d s, %d P2 clients (%s), %d P0/s, time scale %.2f, 160 slots, P0 reserve 30%%%n",
					seconds, p2Clients, p2Stream ? "streaming" : "non-streaming", p0PerSecond, timeScale);
			System.out.printf("P2 completed %d (%.0f/s), shed or failed %d, preempted %d%n", p2Done.get(),
					p2Done.get() / (double) seconds, p2Shed.get(), llama.tiers().get(Tier.P2).preempted());
			System.out.printf("P0 requests %d, failed %d%n", p0Queue.size(), p0Failed.get());
			System.out.printf("P0 queue wait (dispatcher), ms: p50 %d  p99 %d  max %d%n", percentile(p0Queue, 0.50),
					percentile(p0Queue, 0.99), percentile(p0Queue, 1.0));
			System.out.printf("P0 queue wait (dispatcher, from its clock): %s%n",
					runtime.waits()
						.percentiles(System.currentTimeMillis())
						.get(Tier.P0)
						.stream()
						.filter((point) -> point.endMillis() > floodStartMillis && point.samples() > 0)
						.toList());
			System.out.printf("P0 end to end under the flood, ms: p50 %.1f  p99 %.1f  max %.1f%n",
					percentile(p0Total, 0.50) / 1e6, percentile(p0Total, 0.99) / 1e6, percentile(p0Total, 1.0) / 1e6);
			System.out.printf("P0 end to end on an idle fleet (baseline, %d requests), ms: p50 %.1f  p99 %.1f%n",
					baseline.size(), percentile(baseline, 0.50) / 1e6, percentile(baseline, 0.99) / 1e6);
		}
		System.exit(0);
	}

	/**
	 * Sends P0 requests at a steady rate until a deadline, recording end-to-end and queue
	 * times.
	 */
	private static void sendP0(ExecutorService clients, HttpClient http, URI uri, int perSecond, long until,
			List<Long> total, List<Long> queue, AtomicLong failed) throws InterruptedException {
		long interval = TimeUnit.SECONDS.toNanos(1) / perSecond;
		long nextAt = System.nanoTime();
		while (nextAt < until) {
			long sleep = nextAt - System.nanoTime();
			if (sleep > 0) {
				TimeUnit.NANOSECONDS.sleep(sleep);
			}
			nextAt += interval;
			clients.submit(() -> {
				long start = System.nanoTime();
				HttpResponse<String> response = http.send(request(uri, "P0", 16, false),
						HttpResponse.BodyHandlers.ofString());
				if (response.statusCode() == 200) {
					total.add(System.nanoTime() - start);
					queue.add(Long.parseLong(response.headers().firstValue("x-tiergate-queue-ms").orElse("0")));
				}
				else {
					failed.incrementAndGet();
				}
				return null;
			});
		}
	}

	private static HttpRequest request(URI uri, String tier, int maxTokens, boolean stream) {
		return HttpRequest.newBuilder(uri)
			.header("Authorization", "Bearer " + EmbeddedDefaults.ACME_KEY)
			.header("Content-Type", "application/json")
			.header("X-Tiergate-Priority", tier)
			.timeout(Duration.ofMinutes(2))
			.POST(HttpRequest.BodyPublishers
				.ofString("{\"model\":\"" + SimulatedGpuFleet.LLAMA + "\",\"stream\":" + stream + ",\"max_tokens\":"
						+ maxTokens + ",\"messages\":[{\"role\":\"user\",\"content\":\"benchmark\"}]}"))
			.build();
	}

	private static long percentile(List<Long> values, double q) {
		if (values.isEmpty()) {
			return 0;
		}
		List<Long> sorted = new ArrayList<>(values);
		Collections.sort(sorted);
		int index = (int) Math.ceil(q * sorted.size()) - 1;
		return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
	}

}
