package dev.tiergate.bench;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;

import dev.tiergate.cost.GpuProfile;
import dev.tiergate.cost.GpuServiceTimeModel;
import dev.tiergate.cost.ModelProfile;
import dev.tiergate.cost.SliceShare;
import dev.tiergate.fleet.SimulatedInferenceServer;

/**
 * What a preemption costs inside one engine, at real A100 speed (time scale 1), on one
 * simulated vLLM server (Llama 3.1 8B, MPS 1/4 slice) whose batch is full of streaming P2
 * requests. Each round aborts one P2 stream the way {@code UpstreamExchange} does
 * (closing the response body) and at once sends a P0 streaming request, then measures:
 * <ul>
 * <li>abort to free: from closing the P2 stream until the server has dropped the sequence
 * from its engine;</li>
 * <li>P0's time to first token, with and without vLLM's {@code priority} field on the
 * requests (P0 0, P2 2), next to P0's time to first token on an idle server.</li>
 * </ul>
 * Usage: {@code java -cp ... dev.tiergate.bench.AbortToFreeProbe [rounds] [slots]}.
 */
public final class AbortToFreeProbe {

	private static final HttpClient HTTP = HttpClient.newBuilder()
		.version(HttpClient.Version.HTTP_1_1)
		.executor(Executors.newVirtualThreadPerTaskExecutor())
		.build();

	private AbortToFreeProbe() {
	}

	public static void main(String[] args) throws Exception {
		int rounds = (args.length > 0) ? Integer.parseInt(args[0]) : 30;
		int slots = (args.length > 1) ? Integer.parseInt(args[1]) : 8;
		GpuServiceTimeModel model = new GpuServiceTimeModel(GpuProfile.a100Sxm80gb(), ModelProfile.llama31_8b(),
				SliceShare.mps(4), 1.0);
		try (SimulatedInferenceServer server = SimulatedInferenceServer.builder("llama", model)
			.slots(slots)
			.build()
			.start()) {
			URI uri = server.baseUri().resolve("/v1/chat/completions");
			for (int i = 0; i < 20; i++) {
				// warm-up: the JIT, connections
				ttft(uri, null);
			}
			double[] idle = new double[rounds];
			for (int i = 0; i < rounds; i++) {
				idle[i] = ttft(uri, null);
			}
			for (boolean priority : new boolean[] { false, true }) {
				double[] free = new double[rounds];
				double[] ttft = new double[rounds];
				InputStream[] flood = new InputStream[slots];
				for (int s = 0; s < slots; s++) {
					flood[s] = startP2(uri, priority);
				}
				for (int i = 0; i < rounds; i++) {
					int victim = i % slots;
					awaitRunning(server, slots);
					long before = server.aborted();
					long aborted = System.nanoTime();
					flood[victim].close();
					CompletableFuture<Double> p0 = CompletableFuture.supplyAsync(() -> ttft(uri, priority ? 0 : null));
					// Free: the server has noticed and dropped the sequence from its
					// engine.
					while (server.aborted() == before && System.nanoTime() - aborted < 10_000_000_000L) {
						Thread.onSpinWait();
					}
					free[i] = (System.nanoTime() - aborted) / 1e6;
					ttft[i] = p0.get();
					flood[victim] = startP2(uri, priority);
				}
				for (InputStream stream : flood) {
					stream.close();
				}
				report((priority ? "with priority" : "no priority") + ", abort to free slot", free);
				report((priority ? "with priority" : "no priority") + ", P0 TTFT after the abort", ttft);
			}
			report("idle server, P0 TTFT", idle);
		}
	}

	private static void awaitRunning(SimulatedInferenceServer server, int slots) throws InterruptedException {
		long until = System.nanoTime() + 30_000_000_000L;
		while (server.running() < slots && System.nanoTime() < until) {
			Thread.sleep(1);
		}
		// Let the new P2 reach its decode phase, as in a standing flood.
		Thread.sleep(200);
	}

	private static InputStream startP2(URI uri, boolean priority) throws Exception {
		HttpResponse<InputStream> response = HTTP.send(request(uri, 1_500, priority ? 2 : null),
				HttpResponse.BodyHandlers.ofInputStream());
		InputStream body = response.body();
		body.read(new byte[64]);
		return body;
	}

	private static double ttft(URI uri, Integer priority) {
		try {
			long started = System.nanoTime();
			HttpResponse<InputStream> response = HTTP.send(request(uri, 16, priority),
					HttpResponse.BodyHandlers.ofInputStream());
			try (InputStream body = response.body()) {
				body.read(new byte[16]);
				double ms = (System.nanoTime() - started) / 1e6;
				body.readAllBytes();
				return ms;
			}
		}
		catch (Exception ex) {
			throw new IllegalStateException(ex);
		}
	}

	private static HttpRequest request(URI uri, int maxTokens, Integer priority) {
		String body = "{\"model\":\"llama\",\"stream\":true,\"max_tokens\":" + maxTokens
				+ ((priority != null) ? ",\"priority\":" + priority : "")
				+ ",\"messages\":[{\"role\":\"user\",\"content\":\"" + "word ".repeat(25) + "\"}]}";
		return HttpRequest.newBuilder(uri)
			.header("Content-Type", "application/json")
			.POST(HttpRequest.BodyPublishers.ofString(body))
			.build();
	}

	private static void report(String what, double[] values) {
		double[] sorted = values.clone();
		Arrays.sort(sorted);
		System.out.printf(Locale.ROOT, "%-44s p50 %7.1f ms  p99 %7.1f ms  max %7.1f ms (%d)%n", what,
				sorted[(int) Math.ceil(0.5 * sorted.length) - 1], sorted[(int) Math.ceil(0.99 * sorted.length) - 1],
				sorted[sorted.length - 1], sorted.length);
	}

}
