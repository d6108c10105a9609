package dev.tiergate.cost;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.DoubleConsumer;

import dev.tiergate.cost.SimulationReport.Cost;
import dev.tiergate.cost.SimulationReport.SweepPoint;
import dev.tiergate.cost.SimulationReport.VolumePoint;
import dev.tiergate.tier.ReservePlacement;
import dev.tiergate.tier.Tier;
import dev.tiergate.tier.TierDefinition;

/**
 * Replays a trace through Tiergate's scheduler on a virtual clock and prices the result:
 * the tiered run, the two baselines (FIFO without tiers, static partitioning) on the same
 * trace and fleet, the monthly cost against the hosted API, and a sweep over sharing
 * replicas, P0's reserved share and GPU count that recommends the cheapest setting
 * meeting P0's TTFT target. Runs in parallel on {@code parallelism} threads; the report
 * does not depend on it.
 */
public final class Simulator {

	private final int parallelism;

	/**
	 * A simulator.
	 * @param parallelism threads for the runs, 1 or more
	 */
	public Simulator(int parallelism) {
		if (parallelism < 1) {
			throw new IllegalArgumentException("parallelism must be at least 1, was " + parallelism);
		}
		this.parallelism = parallelism;
	}

	/**
	 * A simulator on all cores.
	 * @return the simulator
	 */
	public static Simulator onAllCores() {
		return new Simulator(Runtime.getRuntime().availableProcessors());
	}

	/**
	 * Simulates.
	 * @param trace the trace as read
	 * @param settings the settings
	 * @param progress told the fraction done (0 to 1) after every run, from any thread
	 * @return the report
	 */
	public SimulationReport simulate(Trace trace, SimulationSettings settings, DoubleConsumer progress) {
		Trace replayed = settings.speed().apply(settings.assignment().apply(trace));
		SimulationSettings.Sweep sweep = settings.sweep();
		List<Job> jobs = new ArrayList<>();
		double tieredCap = (settings.spill() != null) ? settings.spill().largestCap() : -1;
		jobs.add(new Job("tiered", settings, SimulationRun.Mode.TIERED, 0, 0, 0, tieredCap));
		jobs.add(new Job("fifo", settings, SimulationRun.Mode.FIFO, 0, 0, 0, -1));
		jobs.add(new Job("static", settings, SimulationRun.Mode.STATIC, 0, 0, 0, -1));
		List<Double> caps = (settings.spill() != null) ? settings.spill().monthlyCaps() : List.of(-1.0);
		if (sweep.enabled()) {
			for (int gpus : sweep.gpuCounts()) {
				for (int replicas : sweep.replicas()) {
					for (double share : sweep.p0Shares()) {
						List<ReservePlacement> placements = sweep.placements().isEmpty()
								? List.of(settings.tiers().get(Tier.P0).reservePlacement()) : sweep.placements();
						for (ReservePlacement placement : placements) {
							SimulationSettings point = settings.withFleet(settings.fleet().with(gpus, replicas))
								.withTiers(withP0(settings.tiers(), share, placement));
							for (double cap : caps) {
								jobs.add(
										new Job("sweep", point, SimulationRun.Mode.TIERED, replicas, share, gpus, cap));
							}
						}
					}
				}
			}
		}
		AtomicInteger done = new AtomicInteger();
		List<SimulationReport.Run> runs = runAll(jobs, replayed,
				() -> progress.accept((double) done.incrementAndGet() / jobs.size()));
		List<SweepPoint> points = new ArrayList<>();
		double monthlyVolume = TimeScaling.monthlyVolume(replayed);
		for (int i = 3; i < jobs.size(); i++) {
			points.add(sweepPoint(jobs.get(i), runs.get(i), monthlyVolume / replayed.requests().size()));
		}
		points.sort(Comparator.comparingDouble(SweepPoint::totalMonthly)
			.thenComparing(Comparator.comparing(SweepPoint::meetsSlo).reversed())
			.thenComparingDouble(SweepPoint::spillCap)
			.thenComparingDouble(SweepPoint::p0TtftP99Ms)
			.thenComparingInt(SweepPoint::replicas)
			.thenComparingDouble(SweepPoint::p0Share)
			.thenComparing(SweepPoint::placement));
		SweepPoint recommendation = points.stream().filter(SweepPoint::meetsSlo).findFirst().orElse(null);
		Map<Tier, Double> slo = new EnumMap<>(Tier.class);
		settings.ttftSlo().forEach((tier, target) -> slo.put(tier, target.toNanos() / 1e6));
		return new SimulationReport(trace.name(), trace.format(), replayed.requests().size(),
				replayed.span().toNanos() / 1e9, settings.speed().speed(), settings.assignment().seed(),
				settings.fleet(), slo, runs.get(0), runs.get(1), runs.get(2), cost(replayed, settings), points,
				recommendation);
	}

	private List<SimulationReport.Run> runAll(List<Job> jobs, Trace trace, Runnable onEach) {
		if (this.parallelism == 1 || jobs.size() == 1) {
			List<SimulationReport.Run> runs = new ArrayList<>();
			for (Job job : jobs) {
				runs.add(job.run(trace));
				onEach.run();
			}
			return runs;
		}
		ForkJoinPool pool = new ForkJoinPool(this.parallelism);
		try {
			return pool.submit(() -> jobs.parallelStream().map((job) -> {
				SimulationReport.Run run = job.run(trace);
				onEach.run();
				return run;
			}).toList()).get();
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("simulation interrupted", ex);
		}
		catch (ExecutionException ex) {
			if (ex.getCause() instanceof RuntimeException runtime) {
				throw runtime;
			}
			throw new IllegalStateException(ex.getCause());
		}
		finally {
			pool.shutdown();
		}
	}

	private static Map<Tier, TierDefinition> withP0(Map<Tier, TierDefinition> tiers, double share,
			ReservePlacement placement) {
		Map<Tier, TierDefinition> result = new EnumMap<>(tiers);
		TierDefinition p0 = tiers.get(Tier.P0);
		result.put(Tier.P0, p0.withReservedShare(share).withPlacement(placement, p0.borrowPerEndpoint()));
		return result;
	}

	/**
	 * A sweep point; {@code scale} turns the replay's spill cost into a month's (the
	 * monthly volume over the replayed requests).
	 */
	private static SweepPoint sweepPoint(Job job, SimulationReport.Run run, double scale) {
		SimulationSettings settings = job.settings();
		double monthly = selfHostedMonthly(settings, settings.fleet().gpus());
		if (!run.fits()) {
			return new SweepPoint(job.replicas(), job.p0Share(), job.gpus(), false, 0, 0, 0, 0, monthly, false,
					settings.tiers().get(Tier.P0).reservePlacement(), job.spillCap(), 0, monthly);
		}
		double spillMonthly = round2(run.spillCost() * scale);
		SimulationReport.TierResult p0 = run.tiers().get(Tier.P0);
		int rejected = 0;
		for (SimulationReport.TierResult tier : run.tiers().values()) {
			rejected += tier.rejected();
		}
		double target = settings.ttftSlo().get(Tier.P0).toNanos() / 1e6;
		boolean meets = p0.completed() > 0 && p0.rejected() == 0 && p0.preempted() == 0 && p0.ttftMs().p99() < target;
		return new SweepPoint(job.replicas(), job.p0Share(), job.gpus(), true, p0.ttftMs().p99(), p0.sloAttainment(),
				rejected, run.meanSliceUtilization(), monthly, meets, settings.tiers().get(Tier.P0).reservePlacement(),
				job.spillCap(), spillMonthly, round2(monthly + spillMonthly));
	}

	static double selfHostedMonthly(SimulationSettings settings, int gpus) {
		double hours = TimeScaling.MONTH.toHours();
		return round2(gpus * settings.prices().gpuHourly(settings.fleet().gpu()) * hours
				+ settings.prices().monthlyOverhead());
	}

	/**
	 * Prices the replayed trace.
	 * @param trace the trace as replayed
	 * @param settings the settings
	 * @return the monthly cost
	 */
	static Cost cost(Trace trace, SimulationSettings settings) {
		double perMonth = TimeScaling.monthlyVolume(trace);
		double hostedTotal = 0;
		for (TraceRequest request : trace.requests()) {
			String model = (request.model() != null) ? request.model() : settings.fleet().models().get(0).model();
			hostedTotal += settings.prices().hostedPrice(model).cost(request.promptTokens(), request.outputTokens());
		}
		double perRequest = hostedTotal / trace.requests().size();
		int gpus = settings.fleet().gpus();
		double selfHosted = selfHostedMonthly(settings, gpus);
		double hosted = perRequest * perMonth;
		double breakEven = (perRequest > 0) ? selfHosted / perRequest : -1;
		TreeSet<Double> volumes = new TreeSet<>(
				List.of(250_000.0, 500_000.0, 1e6, 2e6, 3e6, 5e6, 7.5e6, 1e7, 1.5e7, 2e7, 3e7, 5e7));
		volumes.add((double) Math.round(perMonth));
		if (breakEven > 0) {
			volumes.add((double) Math.round(breakEven));
		}
		List<VolumePoint> curve = new ArrayList<>();
		for (double volume : volumes) {
			int needed = Math.max(1, (int) Math.ceil(gpus * volume / perMonth - 1e-9));
			curve
				.add(new VolumePoint(volume, needed, selfHostedMonthly(settings, needed), round2(perRequest * volume)));
		}
		return new Cost(Math.round(perMonth), settings.prices().gpuHourly(settings.fleet().gpu()), selfHosted,
				round2(hosted), perRequest, round2(hosted - selfHosted), Math.round(breakEven), curve);
	}

	private static double round2(double value) {
		return Math.round(value * 100) / 100.0;
	}

	private record Job(String name, SimulationSettings settings, SimulationRun.Mode mode, int replicas, double p0Share,
			int gpus, double spillCap) {

		SimulationReport.Run run(Trace trace) {
			return new SimulationRun(this.name, trace, this.settings, this.mode, this.spillCap).run();
		}

	}

}
