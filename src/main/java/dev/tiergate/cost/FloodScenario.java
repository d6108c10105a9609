package dev.tiergate.cost;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import dev.tiergate.cost.SimulationReport.Percentiles;
import dev.tiergate.tier.ReservePlacement;
import dev.tiergate.tier.Tier;
import dev.tiergate.tier.TierDefinition;
import dev.tiergate.tier.TierProperties;

/**
 * P0 under a P2 flood, in the simulator (no CPU noise): the same fleet and tiers replay
 * three synthetic traces, P0 alone, P2 alone and both, and the scenario compares P0's
 * time to first token with and without the flood, the slots in use, and P2's throughput
 * with and without P0 (the goal: P0 TTFT p99 at most 1.2 x, slot use at least 95%, P2
 * throughput at least 85%). It runs once per reserve placement and engine policy asked.
 * Everything is measured over a window after a warm-up, so that the flood has filled the
 * fleet; P2's throughput counts the output tokens generated in the window that were not
 * lost to a preemption. P2 alone is always measured with P0's reserve on slots (P2 then
 * borrows all of it): the fleet's whole P2 throughput, which a placement that leaves
 * slots idle is held to.
 */
public final class FloodScenario {

	private FloodScenario() {
	}

	/**
	 * The embedded default's fleet (20 endpoints of Llama 3.1 8B with 8 slots on 5 A100s
	 * shared by MPS with 4 replicas, as the simulated fleet runs them).
	 * @return the fleet
	 */
	public static FleetSpec embeddedFleet() {
		return new FleetSpec(GpuProfile.a100Sxm80gb().product(), 5, SharingStrategy.MPS, 4,
				List.of(new FleetSpec.Deployment(ModelProfile.llama31_8b().name(), 1.0, 8)));
	}

	/**
	 * Runs the scenario for every placement and engine policy of the settings.
	 * @param settings the scenario
	 * @return one result per placement and engine policy
	 */
	public static List<Result> run(Settings settings) {
		List<Result> results = new ArrayList<>();
		for (InferenceEngine.Policy policy : settings.enginePolicies()) {
			for (ReservePlacement placement : settings.placements()) {
				for (int borrow : settings.borrowPerEndpoint()) {
					if (placement == ReservePlacement.SLOTS && borrow != settings.borrowPerEndpoint().get(0)) {
						continue;
					}
					results.add(runOne(settings, policy, placement, borrow));
				}
			}
		}
		return results;
	}

	/**
	 * The command line: {@code simulate --scenario p0-flood [--out results.json]} prints
	 * one line per run and writes the results as JSON when asked.
	 * @param args the arguments after {@code simulate}
	 * @param out where the table goes
	 * @param err where errors go
	 * @return the exit code
	 */
	public static int command(String[] args, java.io.PrintStream out, java.io.PrintStream err) {
		java.nio.file.Path file = null;
		for (int i = 0; i < args.length; i++) {
			if (args[i].equals("--scenario") && i + 1 < args.length && args[i + 1].equals("p0-flood")) {
				i++;
			}
			else if (args[i].equals("--out") && i + 1 < args.length) {
				file = java.nio.file.Path.of(args[++i]);
			}
			else {
				err.println("simulate: --scenario p0-flood takes only --out FILE.json, not " + args[i]);
				return 2;
			}
		}
		List<Result> results = run(Settings.defaults());
		out.println("placement  borrow engine    P0 TTFT p50/p99 alone  flood          p99 x  slot use  "
				+ "P2 tok/s alone  with P0   ratio  goal");
		for (Result r : results) {
			out.printf(java.util.Locale.ROOT,
					"%-10s %6s %-8s  %6.1f / %6.1f ms      %6.1f / %6.1f  %5.2f  %7.1f%%  %14.0f  %8.0f  %5.1f%%  %s%n",
					r.placement().value(),
					(r.placement() == ReservePlacement.ENDPOINTS) ? Integer.toString(r.borrowPerEndpoint()) : "-",
					r.enginePolicy(), r.p0TtftAlone().p50(), r.p0TtftAlone().p99(), r.p0TtftFlood().p50(),
					r.p0TtftFlood().p99(), r.p0TtftP99Ratio(), r.slotUse() * 100, r.p2TokensPerSecondAlone(),
					r.p2TokensPerSecondWithP0(), r.p2ThroughputRatio() * 100, r.meetsGoal() ? "met" : "missed");
		}
		if (file != null) {
			try {
				java.nio.file.Files.writeString(file,
						SimulationFiles.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(results));
			}
			catch (java.io.IOException ex) {
				err.println("simulate: " + ex.getMessage());
				return 1;
			}
		}
		return 0;
	}

	static Result runOne(Settings settings, InferenceEngine.Policy policy, ReservePlacement placement,
			int borrowPerEndpoint) {
		Map<Tier, TierDefinition> tiers = new EnumMap<>(settings.tiers());
		TierDefinition p0 = tiers.get(Tier.P0);
		tiers.put(Tier.P0, p0.withPlacement(placement, borrowPerEndpoint));
		SimulationSettings simulation = new SimulationSettings(settings.fleet(), tiers, null, policy, 2, null, null,
				null, SimulationSettings.Sweep.none());
		List<TraceRequest> p0Requests = p0Arrivals(settings);
		List<TraceRequest> p2Requests = p2Arrivals(settings);
		List<TraceRequest> both = new ArrayList<>(p0Requests);
		both.addAll(p2Requests);
		both.sort(Comparator.comparingLong(TraceRequest::offsetNanos));
		Window alone = measure(simulation, p0Requests, settings);
		// P2 alone is measured with P0's reserve on slots, which P2 borrows whole: the
		// fleet's full P2 throughput, whatever placement is under test.
		Map<Tier, TierDefinition> spread = new EnumMap<>(tiers);
		spread.put(Tier.P0, p0.withPlacement(ReservePlacement.SLOTS, borrowPerEndpoint));
		Window flood = measure(simulation.withTiers(spread), p2Requests, settings);
		Window mixed = measure(simulation, both, settings);
		double ttftRatio = (alone.p0Ttft().p99() > 0) ? mixed.p0Ttft().p99() / alone.p0Ttft().p99() : 0;
		double p2Ratio = (flood.p2TokensPerSecond() > 0) ? mixed.p2TokensPerSecond() / flood.p2TokensPerSecond() : 0;
		return new Result(placement, borrowPerEndpoint, policy, alone.p0Ttft(), mixed.p0Ttft(), round3(ttftRatio),
				alone.p0E2e(), mixed.p0E2e(), round4(mixed.slotUse()), round4(flood.slotUse()),
				round3(flood.p2TokensPerSecond()), round3(mixed.p2TokensPerSecond()), round4(p2Ratio),
				mixed.schedulerPreemptions(), mixed.enginePreemptions(),
				ttftRatio <= 1.2 && mixed.slotUse() >= 0.95 && p2Ratio >= 0.85);
	}

	private static Window measure(SimulationSettings simulation, List<TraceRequest> requests, Settings settings) {
		long from = settings.warmUp().toNanos();
		long to = from + settings.duration().toNanos();
		long[] p2Tokens = new long[2];
		double[] busy = new double[2];
		int[] sample = new int[1];
		Trace trace = new Trace("p0-flood", TraceFormat.TIERGATE_JSONL, java.time.Instant.EPOCH, requests);
		SimulationRun run = new SimulationRun("p0-flood", trace, simulation, SimulationRun.Mode.TIERED);
		run.sampling(new long[] { from, to }, (r) -> {
			p2Tokens[sample[0]] = r.outputTokens(Tier.P2);
			busy[sample[0]] = r.busySlotNanos();
			sample[0]++;
		});
		SimulationReport.Run report = run.run();
		double seconds = (to - from) / 1e9;
		return new Window(SimulationRun.percentiles(run.ttftMillis(Tier.P0, from, to)),
				SimulationRun.percentiles(run.e2eMillis(Tier.P0, from, to)),
				(busy[1] - busy[0]) / (to - from) / run.totalSlots(), (p2Tokens[1] - p2Tokens[0]) / seconds,
				report.schedulerPreemptions(), report.enginePreemptions());
	}

	/** P0: Poisson arrivals at the set rate over the whole run. */
	static List<TraceRequest> p0Arrivals(Settings settings) {
		Random random = new Random(settings.seed());
		List<TraceRequest> requests = new ArrayList<>();
		long end = settings.warmUp().plus(settings.duration()).toNanos();
		double t = 0;
		String model = settings.fleet().models().get(0).model();
		while (true) {
			t += -Math.log(1 - random.nextDouble()) / settings.p0PerSecond() * 1e9;
			if (t >= end) {
				return requests;
			}
			requests.add(new TraceRequest((long) t, "realtime", Tier.P0, model, settings.p0PromptTokens(),
					settings.p0OutputTokens()));
		}
	}

	/**
	 * P2: {@code p2Clients} requests at once, then arrivals at {@code p2Load} times the
	 * fleet's P2 capacity (all slots busy with P2), so that a queue stands throughout.
	 */
	static List<TraceRequest> p2Arrivals(Settings settings) {
		FleetSpec fleet = settings.fleet();
		FleetSpec.Deployment deployment = fleet.models().get(0);
		GpuServiceTimeModel model = new GpuServiceTimeModel(Catalog.gpu(fleet.gpu()), Catalog.model(deployment.model()),
				fleet.slice());
		double serviceNanos = model.prefillNanos(settings.p2PromptTokens())
				+ settings.p2OutputTokens() * model.stepNanos(deployment.slots());
		double capacityPerSecond = fleet.endpoints(deployment) * deployment.slots() / (serviceNanos / 1e9);
		double interval = 1e9 / (capacityPerSecond * settings.p2Load());
		List<TraceRequest> requests = new ArrayList<>();
		long end = settings.warmUp().plus(settings.duration()).toNanos();
		for (int i = 0; i < settings.p2Clients(); i++) {
			requests.add(new TraceRequest(i, "batch", Tier.P2, deployment.model(), settings.p2PromptTokens(),
					settings.p2OutputTokens()));
		}
		for (double t = interval; t < end; t += interval) {
			requests.add(new TraceRequest((long) t, "batch", Tier.P2, deployment.model(), settings.p2PromptTokens(),
					settings.p2OutputTokens()));
		}
		return requests;
	}

	private static double round3(double value) {
		return Math.round(value * 1_000) / 1_000.0;
	}

	private static double round4(double value) {
		return Math.round(value * 10_000) / 10_000.0;
	}

	private record Window(Percentiles p0Ttft, Percentiles p0E2e, double slotUse, double p2TokensPerSecond,
			long schedulerPreemptions, long enginePreemptions) {
	}

	/**
	 * What the scenario runs.
	 *
	 * @param fleet the fleet
	 * @param tiers the tier definitions (P0's placement is set per run)
	 * @param placements the reserve placements to try for P0
	 * @param borrowPerEndpoint the values of P0's {@code borrowPerEndpoint} to try with
	 * {@code endpoints} placement
	 * @param enginePolicies the engine policies to try
	 * @param p0PerSecond P0 arrivals a second (Poisson)
	 * @param p0PromptTokens a P0 request's prompt
	 * @param p0OutputTokens a P0 request's output
	 * @param p2Clients P2 requests at the start
	 * @param p2Load P2 arrivals afterwards, as a multiple of the fleet's P2 capacity
	 * @param p2PromptTokens a P2 request's prompt
	 * @param p2OutputTokens a P2 request's output
	 * @param warmUp time before the window
	 * @param duration the window measured
	 * @param seed the seed of P0's arrivals
	 */
	public record Settings(FleetSpec fleet, Map<Tier, TierDefinition> tiers, List<ReservePlacement> placements,
			List<Integer> borrowPerEndpoint, List<InferenceEngine.Policy> enginePolicies, double p0PerSecond,
			int p0PromptTokens, int p0OutputTokens, int p2Clients, double p2Load, int p2PromptTokens,
			int p2OutputTokens, Duration warmUp, Duration duration, long seed) {

		/**
		 * Issue 12's test, on the embedded fleet with the default tiers: P0 streams 16
		 * tokens after a 32-token prompt at 4 a second; 300 P2 requests of 1,500 tokens
		 * start at once and more keep arriving at 1.2 x what the fleet serves; a window
		 * of 10 minutes after 2 minutes of warm-up.
		 * @return the settings
		 */
		public static Settings defaults() {
			return new Settings(embeddedFleet(), TierProperties.DEFAULTS,
					List.of(ReservePlacement.SLOTS, ReservePlacement.ENDPOINTS), List.of(0, 1, 2, 4),
					List.of(InferenceEngine.Policy.FCFS, InferenceEngine.Policy.PRIORITY), 4, 32, 16, 300, 1.2, 256,
					1_500, Duration.ofMinutes(2), Duration.ofMinutes(10), 42);
		}

	}

	/**
	 * One run of the scenario.
	 *
	 * @param placement P0's reserve placement
	 * @param borrowPerEndpoint lower-tier sequences allowed on each P0 endpoint
	 * (placement {@code endpoints})
	 * @param enginePolicy the engines' policy
	 * @param p0TtftAlone P0's TTFT without the flood, ms
	 * @param p0TtftFlood P0's TTFT with the flood, ms
	 * @param p0TtftP99Ratio flood p99 over alone p99 (goal at most 1.2)
	 * @param p0E2eAlone P0's end-to-end time without the flood, ms
	 * @param p0E2eFlood P0's end-to-end time with the flood, ms
	 * @param slotUse busy slots over all slots with P0 and the flood (goal at least 0.95)
	 * @param slotUseP2Alone busy slots over all slots with the flood alone (P0's reserve
	 * on slots, so that P2 may borrow all of it)
	 * @param p2TokensPerSecondAlone P2 output tokens a second, alone (P0's reserve on
	 * slots)
	 * @param p2TokensPerSecondWithP0 P2 output tokens a second, with P0
	 * @param p2ThroughputRatio with P0 over alone (goal at least 0.85)
	 * @param schedulerPreemptions leases the scheduler took away, with both
	 * @param enginePreemptions sequences the engines preempted, with both
	 * @param meetsGoal all three goals met
	 */
	public record Result(ReservePlacement placement, int borrowPerEndpoint, InferenceEngine.Policy enginePolicy,
			Percentiles p0TtftAlone, Percentiles p0TtftFlood, double p0TtftP99Ratio, Percentiles p0E2eAlone,
			Percentiles p0E2eFlood, double slotUse, double slotUseP2Alone, double p2TokensPerSecondAlone,
			double p2TokensPerSecondWithP0, double p2ThroughputRatio, long schedulerPreemptions, long enginePreemptions,
			boolean meetsGoal) {
	}

}
