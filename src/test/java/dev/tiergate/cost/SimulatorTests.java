package dev.tiergate.cost;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;

import dev.tiergate.cost.SimulationReport.Cost;
import dev.tiergate.cost.SimulationReport.Run;
import dev.tiergate.cost.SimulationReport.SweepPoint;
import dev.tiergate.tier.Tier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.within;

/**
 * Tests for {@link Simulator}.
 */
class SimulatorTests {

	private static final String LLAMA = "llama-3.1-8b-instruct";

	private static final String A100 = "NVIDIA-A100-SXM4-80GB";

	/** Requests every {@code gapMs}, prompts and outputs drawn with a seed. */
	private static Trace synthetic(int count, long gapMs, long seed) {
		Random random = new Random(seed);
		List<TraceRequest> requests = new ArrayList<>();
		for (int i = 0; i < count; i++) {
			requests.add(new TraceRequest(i * gapMs * 1_000_000L, null, null, null, 50 + random.nextInt(400),
					10 + random.nextInt(200)));
		}
		return new Trace("synthetic", TraceFormat.MOONCAKE_JSONL, null, requests);
	}

	private static SimulationSettings settings(FleetSpec fleet, long seed, SimulationSettings.Sweep sweep) {
		return new SimulationSettings(fleet, null, null, null, 2, null,
				new TierAssignment(TierAssignment.DEFAULT_SHARES, Map.of(), false, seed), null, sweep);
	}

	private static FleetSpec fleet(int gpus, SharingStrategy sharing, int replicas, int slots) {
		return new FleetSpec(A100, gpus, sharing, replicas, List.of(new FleetSpec.Deployment(LLAMA, 1.0, slots)));
	}

	@Test
	void aLoneRequestTakesTheEngineModelsTimeWithNoQueueWait() {
		Trace trace = new Trace("one", TraceFormat.MOONCAKE_JSONL, null,
				List.of(new TraceRequest(0, null, Tier.P0, null, 1_000, 100)));
		FleetSpec fleet = fleet(1, SharingStrategy.MPS, 4, 8);
		GpuServiceTimeModel model = new GpuServiceTimeModel(GpuProfile.a100Sxm80gb(), ModelProfile.llama31_8b(),
				SliceShare.mps(4));

		SimulationReport report = new Simulator(1).simulate(trace, settings(fleet, 1, SimulationSettings.Sweep.none()),
				(fraction) -> {
				});

		SimulationReport.TierResult p0 = report.tiered().tiers().get(Tier.P0);
		assertThat(p0.completed()).isEqualTo(1);
		assertThat(p0.queueWaitMs().p50()).isZero();
		assertThat(p0.ttftMs().p50()).isCloseTo(model.timeToFirstToken(1_000, 1).toNanos() / 1e6, within(0.002));
		assertThat(p0.e2eMs().p50()).isCloseTo(model.totalTime(1_000, 100, 1).toNanos() / 1e6, within(0.002));
		assertThat(report.tiered().endpoints()).isEqualTo(4);
	}

	@Test
	void theSameSeedGivesTheSameReportAndAnotherSeedAnotherOne() {
		Trace trace = synthetic(2_000, 20, 3);
		SimulationSettings.Sweep sweep = new SimulationSettings.Sweep(List.of(1, 4), List.of(0.1, 0.3), List.of(1, 2));
		FleetSpec fleet = fleet(1, SharingStrategy.MPS, 4, 4);

		SimulationReport first = new Simulator(2).simulate(trace, settings(fleet, 11, sweep), (fraction) -> {
		});
		SimulationReport second = new Simulator(1).simulate(trace, settings(fleet, 11, sweep), (fraction) -> {
		});
		SimulationReport otherSeed = new Simulator(2).simulate(trace, settings(fleet, 12, sweep), (fraction) -> {
		});

		assertThat(second).isEqualTo(first);
		assertThat(SimulationFiles.JSON.writeValueAsString(second))
			.isEqualTo(SimulationFiles.JSON.writeValueAsString(first));
		assertThat(otherSeed.tiered()).isNotEqualTo(first.tiered());
		assertThat(first.sweep()).hasSize(8);
	}

	@Test
	void theSweepTriesP0sReserveOnSlotsAndOnWholeEndpoints() {
		Trace trace = synthetic(2_000, 20, 3);
		SimulationSettings.Sweep sweep = new SimulationSettings.Sweep(List.of(4), List.of(0.3), List.of(1),
				List.of(dev.tiergate.tier.ReservePlacement.SLOTS, dev.tiergate.tier.ReservePlacement.ENDPOINTS));
		SimulationReport report = new Simulator(1).simulate(trace,
				settings(fleet(1, SharingStrategy.MPS, 4, 4), 11, sweep), (fraction) -> {
				});
		assertThat(report.sweep()).extracting(SimulationReport.SweepPoint::placement)
			.containsExactlyInAnyOrder(dev.tiergate.tier.ReservePlacement.SLOTS,
					dev.tiergate.tier.ReservePlacement.ENDPOINTS);
	}

	@Test
	void underContentionTiersServeP0BeforeTheFifoBaselineDoes() {
		// one unshared GPU, 4 slots, a request every 30 ms: more work than it can do
		Trace trace = synthetic(3_000, 30, 5);
		FleetSpec fleet = fleet(1, SharingStrategy.NONE, 1, 4);

		SimulationReport report = new Simulator(2).simulate(trace, settings(fleet, 1, SimulationSettings.Sweep.none()),
				(fraction) -> {
				});

		Run tiered = report.tiered();
		Run fifo = report.fifo();
		assertThat(tiered.tiers().get(Tier.P0).queueWaitMs().p95())
			.isLessThan(fifo.tiers().get(Tier.P0).queueWaitMs().p95() / 2);
		assertThat(tiered.tiers().get(Tier.P0).sloAttainment())
			.isGreaterThan(fifo.tiers().get(Tier.P0).sloAttainment());
		assertThat(tiered.tiers().get(Tier.P2).queueWaitMs().p50())
			.isGreaterThan(fifo.tiers().get(Tier.P2).queueWaitMs().p50());
		assertThat(tiered.meanSliceUtilization()).isGreaterThan(0.9);
		assertThat(tiered.schedulerPreemptions()).isPositive();
		assertThat(fifo.schedulerPreemptions()).isZero();
		assertThat(report.staticPartition().schedulerPreemptions()).isZero();
	}

	@Test
	void modelsThatDoNotFitASliceAreFlaggedNotSimulated() {
		// Llama 8B takes 15 GiB of weights; an eighth of 0.9 x 80 GiB is 9 GiB
		SimulationReport report = new Simulator(1).simulate(synthetic(10, 100, 1),
				settings(fleet(1, SharingStrategy.MPS, 8, 8), 1, SimulationSettings.Sweep.none()), (fraction) -> {
				});

		assertThat(report.tiered().fits()).isFalse();
		assertThat(
				Catalog.sliceKvCapacityTokens(GpuProfile.a100Sxm80gb(), ModelProfile.llama31_8b(), SliceShare.mps(4)))
			// (80 GiB x 0.9 / 4 - 8e9 x 2 bytes) / 128 KiB
			.isEqualTo((long) Math.floor((81_920 * 0.9 / 4 - 16e9 / 1_048_576) * 8));
	}

	@Test
	void theSweepRecommendsTheCheapestSettingThatMeetsP0sTarget() {
		// light load, short prompts: a single unshared GPU is fast enough
		Trace trace = synthetic(500, 200, 9);
		SimulationSettings.Sweep sweep = new SimulationSettings.Sweep(List.of(1, 8), List.of(0.2, 0.4), List.of(1, 2));

		SimulationReport report = new Simulator(2).simulate(trace,
				settings(fleet(2, SharingStrategy.MPS, 4, 8), 1, sweep), (fraction) -> {
				});

		assertThat(report.sweep()).hasSize(8);
		assertThat(report.sweep()).filteredOn((p) -> p.replicas() == 8).allMatch((p) -> !p.fits() && !p.meetsSlo());
		SweepPoint best = report.recommendation();
		assertThat(best).isNotNull();
		assertThat(best.gpus()).isEqualTo(1);
		assertThat(best.replicas()).isEqualTo(1);
		assertThat(best.meetsSlo()).isTrue();
		assertThat(best.p0TtftP99Ms()).isLessThan(200);
		assertThat(best.selfHostedMonthly()).isEqualTo(2_000.20);
		assertThat(report.sweep()).allMatch((p) -> p.selfHostedMonthly() >= best.selfHostedMonthly());
	}

	@Test
	void withSpillTheSweepRecommendsTheCheapestFleetPlusCapThatMeetsP0sTarget() {
		// A burst of 8 P0 requests once an hour (100 prompt and 50 output tokens each);
		// one GPU, unshared, holds 4 at a time.
		List<TraceRequest> requests = new ArrayList<>();
		for (int i = 0; i < 8; i++) {
			requests.add(new TraceRequest(0, "acme", Tier.P0, LLAMA, 100, 50));
		}
		requests.add(new TraceRequest(Duration.ofHours(1).toNanos(), "acme", Tier.P0, LLAMA, 100, 50));
		Trace trace = new Trace("bursts", TraceFormat.MOONCAKE_JSONL, null, requests);
		// P0 spills at once; the hosted API answers its first token in 100 ms.
		SpillOption spill = new SpillOption(Map.of(Tier.P0, Duration.ZERO), Duration.ofMillis(100),
				Duration.ofMillis(10), List.of(0.0, 1.0, 50.0));
		SimulationSettings.Sweep sweep = new SimulationSettings.Sweep(List.of(1), List.of(0.3), List.of(1, 2));
		SimulationSettings settings = settings(fleet(1, SharingStrategy.NONE, 1, 4), 1, sweep).withSpill(spill);

		SimulationReport report = new Simulator(2).simulate(trace, settings, (fraction) -> {
		});

		// Each spilled request costs 100 x $2.50/1M + 50 x $10.00/1M = $0.00075. The
		// tiered run (largest cap) spills the 4 the GPU cannot hold: $0.003 over the
		// hour, $2.19 over a month of 730 such hours.
		SimulationReport.TierResult p0 = report.tiered().tiers().get(Tier.P0);
		assertThat(p0.spilled()).isEqualTo(4);
		assertThat(p0.completed()).isEqualTo(9);
		assertThat(report.tiered().spillCost()).isEqualTo(0.003);
		assertThat(report.fifo().spillCost()).isZero();
		assertThat(report.sweep()).hasSize(6);
		double oneGpu = 2.74 * 730;
		assertThat(report.sweep()).filteredOn((point) -> point.gpus() == 1)
			.satisfiesExactlyInAnyOrder(
					// No spill: 4 wait for the first 4 to finish 50 tokens: P0 misses 200
					// ms.
					(point) -> assertThat(point.meetsSlo()).isFalse(),
					// $1 a month is $0.00137 an hour: one request spills, 3 wait.
					(point) -> assertThat(point.meetsSlo()).isFalse(), (point) -> {
						assertThat(point.spillCap()).isEqualTo(50);
						assertThat(point.spillMonthly()).isEqualTo(2.19);
						assertThat(point.totalMonthly()).isEqualTo(Math.round((oneGpu + 2.19) * 100) / 100.0);
						assertThat(point.meetsSlo()).isTrue();
					});
		assertThat(report.sweep()).filteredOn((point) -> point.gpus() == 1 && point.spillCap() < 50)
			.extracting(SimulationReport.SweepPoint::spillMonthly)
			.containsExactlyInAnyOrder(0.0, 0.55);
		// Two GPUs hold the burst without spill, but cost a second GPU-month.
		assertThat(report.sweep()).filteredOn((point) -> point.gpus() == 2)
			.allSatisfy((point) -> assertThat(point.spillMonthly()).isZero());
		assertThat(report.recommendation()).satisfies((best) -> {
			assertThat(best.gpus()).isEqualTo(1);
			assertThat(best.spillCap()).isEqualTo(50);
		});
	}

	@Test
	void costArithmeticMatchesHandComputedFigures() {
		// two requests an hour apart: 2 x 730 = 1,460 requests a month
		List<TraceRequest> requests = List.of(new TraceRequest(0, null, Tier.P1, null, 1_000, 430),
				new TraceRequest(Duration.ofHours(1).toNanos(), null, Tier.P1, null, 1_000, 430));
		Trace trace = new Trace("hand", TraceFormat.MOONCAKE_JSONL, null, requests);
		SimulationSettings settings = settings(fleet(8, SharingStrategy.MPS, 4, 8), 1, SimulationSettings.Sweep.none());

		Cost cost = Simulator.cost(trace, settings);

		// hosted: 1,000 x $2.50/1M + 430 x $10/1M = $0.0068 a request
		assertThat(cost.hostedPerRequest()).isCloseTo(0.0068, within(1e-12));
		assertThat(cost.monthlyRequests()).isEqualTo(1_460);
		assertThat(cost.hostedMonthly()).isEqualTo(9.93);
		// self-hosted: 8 GPUs x $2.74 x 730 h
		assertThat(cost.selfHostedMonthly()).isEqualTo(16_001.60);
		assertThat(cost.breakEvenMonthlyRequests()).isEqualTo(2_353_176);
		// the article's rows: 1M requests cost $6,800 on the API, 3M $20,400, 10M $68,000
		assertThat(cost.curve()).filteredOn((p) -> p.monthlyRequests() == 1e6)
			.singleElement()
			.satisfies((p) -> assertThat(p.hostedMonthly()).isEqualTo(6_800.00));
		assertThat(cost.curve()).filteredOn((p) -> p.monthlyRequests() == 3e6)
			.singleElement()
			.satisfies((p) -> assertThat(p.hostedMonthly()).isEqualTo(20_400.00));
		assertThat(cost.curve()).filteredOn((p) -> p.monthlyRequests() == 1e7)
			.singleElement()
			.satisfies((p) -> assertThat(p.hostedMonthly()).isEqualTo(68_000.00));
	}

	@Test
	void overheadAndOtherPricesEnterTheMonthlyCost() {
		Trace trace = synthetic(10, 1_000, 1);
		PriceSheet prices = new PriceSheet(Map.of("*", new PriceSheet.HostedPrice(1, 2)), Map.of(A100, 1.5), 1_000,
				"test");
		SimulationSettings settings = settings(fleet(4, SharingStrategy.MPS, 4, 8), 1, SimulationSettings.Sweep.none())
			.withPrices(prices);

		// 4 x $1.50 x 730 + $1,000
		assertThat(Simulator.cost(trace, settings).selfHostedMonthly()).isEqualTo(5_380.00);
	}

	@Test
	void badSettingsAreRefusedNamingTheField() {
		assertThatExceptionOfType(IllegalArgumentException.class)
			.isThrownBy(() -> new FleetSpec(A100, 0, SharingStrategy.MPS, 4, List.of()))
			.withMessageContaining("gpus");
		assertThatExceptionOfType(IllegalArgumentException.class)
			.isThrownBy(() -> new FleetSpec("H200", 1, SharingStrategy.MPS, 4, List.of()))
			.withMessageContaining("unknown GPU product 'H200'");
		assertThatExceptionOfType(IllegalArgumentException.class)
			.isThrownBy(() -> new FleetSpec.Deployment(LLAMA, 1.0, 0))
			.withMessageContaining("models[].slots");
		assertThatExceptionOfType(IllegalArgumentException.class)
			.isThrownBy(() -> new PriceSheet(Map.of("*", new PriceSheet.HostedPrice(-1, 2)), Map.of(A100, 1.0), 0, ""))
			.withMessageContaining("hosted.*.inputPerMillion");
		assertThatExceptionOfType(IllegalArgumentException.class)
			.isThrownBy(() -> new SpillOption(Map.of(Tier.P0, Duration.ofSeconds(-1)), Duration.ZERO, Duration.ZERO,
					List.of(0.0)))
			.withMessageContaining("spill.spillAfter.P0");
		assertThatExceptionOfType(IllegalArgumentException.class)
			.isThrownBy(() -> new SpillOption(Map.of(), Duration.ZERO, Duration.ZERO, List.of(-5.0)))
			.withMessageContaining("spill.monthlyCaps");
		assertThatExceptionOfType(IllegalArgumentException.class)
			.isThrownBy(() -> new SpillOption(Map.of(), null, Duration.ZERO, List.of(1.0)))
			.withMessageContaining("spill.hostedTtft");
	}

}
