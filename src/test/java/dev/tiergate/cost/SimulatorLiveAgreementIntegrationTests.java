package dev.tiergate.cost;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import dev.tiergate.EmbeddedDefaults;
import dev.tiergate.FleetIntegrationTestSupport;
import dev.tiergate.fleet.SimulatedGpuFleet;
import dev.tiergate.tier.Tier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The simulator predicts what the live path does: a short trace replayed against the
 * embedded fleet (through the proxy, the dispatcher and the simulated vLLM servers) and
 * in the simulator gives per-tier median TTFT and end-to-end latency within 15% of each
 * other. The embedded fleet runs 20 times faster than real time (time scale 0.05), so the
 * simulator replays the trace 20 times slower and its times are scaled back.
 * <p>
 * A timed comparison, so it runs only when asked for
 * ({@code -Dtiergate.live-agreement=true}, see {@code docs/benchmarks.md}): on a machine
 * whose cores are shared with other builds the live path's own overhead (HTTP, JSON,
 * Redis quota checks, thread scheduling) swamps the 60-300 ms the 20-times faster fleet
 * takes, which says nothing about the model.
 */
@EnabledIfSystemProperty(named = "tiergate.live-agreement", matches = "true")
class SimulatorLiveAgreementIntegrationTests extends FleetIntegrationTestSupport {

	private static final double FLEET_TIME_SCALE = 0.05;

	private static final int REQUESTS = 120;

	private static final long GAP_MILLIS = 25;

	@Test
	void simulatorAndLiveReplayAgreeOnPerTierMedianTtftAndEndToEndWithin15Percent() throws Exception {
		Random random = new Random(2026);
		List<TraceRequest> requests = new ArrayList<>();
		Tier[] tiers = Tier.values();
		for (int i = 0; i < REQUESTS; i++) {
			requests.add(new TraceRequest(i * GAP_MILLIS * 1_000_000L, "acme", tiers[i % 3], SimulatedGpuFleet.LLAMA,
					2_400 + random.nextInt(1_200), 60 + random.nextInt(80)));
		}
		Trace trace = new Trace("agreement", TraceFormat.TIERGATE_JSONL, null, requests);
		for (int i = 0; i < 30; i++) {
			replayOne(requests.get(i)); // warm the live path up
		}

		Map<Tier, List<double[]>> live = replayLive(requests);
		SimulationReport simulated = simulate(trace);

		StringBuilder table = new StringBuilder("tier  median TTFT sim/live ms  median e2e sim/live ms\n");
		List<Runnable> checks = new ArrayList<>();
		for (Tier tier : tiers) {
			double[] ttft = live.get(tier).stream().mapToDouble((m) -> m[0]).sorted().toArray();
			double[] e2e = live.get(tier).stream().mapToDouble((m) -> m[1]).sorted().toArray();
			assertThat(ttft).hasSize(REQUESTS / 3);
			double liveTtft = SimulationRun.nearestRank(ttft, 0.5);
			double liveE2e = SimulationRun.nearestRank(e2e, 0.5);
			SimulationReport.TierResult sim = simulated.tiered().tiers().get(tier);
			double simTtft = sim.ttftMs().p50() * FLEET_TIME_SCALE;
			double simE2e = sim.e2eMs().p50() * FLEET_TIME_SCALE;
			table.append(String.format(java.util.Locale.ROOT, "%s    %.1f / %.1f    %.1f / %.1f%n", tier, simTtft,
					liveTtft, simE2e, liveE2e));
			checks.add(() -> {
				assertThat(simTtft).as("%s median TTFT: simulated %.1f ms, live %.1f ms", tier, simTtft, liveTtft)
					.isCloseTo(liveTtft, within(0.15 * liveTtft));
				assertThat(simE2e).as("%s median end-to-end: simulated %.1f ms, live %.1f ms", tier, simE2e, liveE2e)
					.isCloseTo(liveE2e, within(0.15 * liveE2e));
			});
		}
		System.out.print(table);
		checks.forEach(Runnable::run);
	}

	private static SimulationReport simulate(Trace trace) {
		// the embedded fleet: 8 x A100 under MPS with 4 replicas; the Llama pool holds 20
		// of
		// its 32 slices, 8 slots each
		FleetSpec fleet = new FleetSpec("NVIDIA-A100-SXM4-80GB", 8, dev.tiergate.cost.SharingStrategy.MPS, 4,
				List.of(new FleetSpec.Deployment(SimulatedGpuFleet.LLAMA, 20 / 32.0, 8)));
		SimulationSettings settings = new SimulationSettings(fleet, null, null, null, 2, null, null,
				new TimeScaling(FLEET_TIME_SCALE), SimulationSettings.Sweep.none());
		return new Simulator(1).simulate(trace, settings, (fraction) -> {
		});
	}

	private Map<Tier, List<double[]>> replayLive(List<TraceRequest> requests) throws Exception {
		ScheduledExecutorService pacer = Executors.newSingleThreadScheduledExecutor();
		try {
			List<CompletableFuture<double[]>> results = new ArrayList<>();
			for (TraceRequest request : requests) {
				CompletableFuture<double[]> result = new CompletableFuture<>();
				results.add(result);
				pacer.schedule(() -> Thread.startVirtualThread(() -> {
					try {
						result.complete(replayOne(request));
					}
					catch (Exception ex) {
						result.completeExceptionally(ex);
					}
				}), request.offsetNanos() + 200_000_000L, TimeUnit.NANOSECONDS);
			}
			Map<Tier, List<double[]>> byTier = new EnumMap<>(Tier.class);
			for (int i = 0; i < requests.size(); i++) {
				byTier.computeIfAbsent(requests.get(i).tier(), (t) -> new ArrayList<>())
					.add(results.get(i).get(60, TimeUnit.SECONDS));
			}
			return byTier;
		}
		finally {
			pacer.shutdownNow();
		}
	}

	/** Sends one request, streaming; returns its TTFT and end-to-end time in ms. */
	private double[] replayOne(TraceRequest request) throws Exception {
		String body = """
				{"model":"%s","prompt":"%s","max_tokens":%d,"stream":true}
				""".formatted(request.model(), "x".repeat(request.promptTokens() * 4), request.outputTokens());
		HttpRequest http = HttpRequest.newBuilder(uri("/v1/completions"))
			.timeout(Duration.ofSeconds(30))
			.header("Content-Type", "application/json")
			.header("Authorization", "Bearer " + EmbeddedDefaults.ACME_KEY)
			.header("X-Tiergate-Priority", request.tier().name())
			.POST(HttpRequest.BodyPublishers.ofString(body))
			.build();
		long start = System.nanoTime();
		HttpResponse<InputStream> response = FleetIntegrationTestSupport.http.send(http,
				HttpResponse.BodyHandlers.ofInputStream());
		assertThat(response.statusCode()).isEqualTo(200);
		long first = -1;
		int chunks = 0;
		try (BufferedReader lines = new BufferedReader(
				new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
			String line;
			while ((line = lines.readLine()) != null) {
				if (line.startsWith("data: ")) {
					if (first < 0) {
						first = System.nanoTime();
					}
					chunks++;
				}
			}
		}
		long end = System.nanoTime();
		assertThat(chunks).isGreaterThan(request.outputTokens());
		return new double[] { (first - start) / 1e6, (end - start) / 1e6 };
	}

}
