package dev.tiergate.metering;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.tiergate.tier.Tier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Tests for {@link GpuMeasurements}: measured busy time integrated from scrapes on a fake
 * clock, set against attributed time per GPU and node, hand-computed.
 */
class GpuMeasurementsTests {

	private static final Instant T0 = Instant.parse("2026-11-29T12:00:00Z");

	private static final Duration STALE = Duration.ofMinutes(1);

	private final DcgmReadings readings = new DcgmReadings();

	private final GpuMeasurements measurements = new GpuMeasurements(Duration.ofMinutes(1), Duration.ofHours(1),
			Duration.ofSeconds(10));

	private static String exposition(double util0, double active0, double util1, double active1) {
		String gpu0 = "gpu=\"0\",UUID=\"GPU-a\",modelName=\"NVIDIA A100-SXM4-80GB\",Hostname=\"n1\"";
		String gpu1 = "gpu=\"1\",UUID=\"GPU-b\",modelName=\"NVIDIA A100-SXM4-80GB\",Hostname=\"n1\"";
		return """
				# TYPE DCGM_FI_DEV_GPU_UTIL gauge
				DCGM_FI_DEV_GPU_UTIL{%1$s,namespace="inference",pod="a",container="vllm"} %3$s
				DCGM_FI_DEV_GPU_UTIL{%1$s,namespace="inference",pod="b",container="vllm"} %3$s
				DCGM_FI_DEV_GPU_UTIL{%2$s} %5$s
				# TYPE DCGM_FI_PROF_GR_ENGINE_ACTIVE gauge
				DCGM_FI_PROF_GR_ENGINE_ACTIVE{%1$s,namespace="inference",pod="a",container="vllm"} %4$s
				DCGM_FI_PROF_GR_ENGINE_ACTIVE{%1$s,namespace="inference",pod="b",container="vllm"} %4$s
				DCGM_FI_PROF_GR_ENGINE_ACTIVE{%2$s} %6$s
				DCGM_FI_DEV_FB_USED{%1$s,namespace="inference",pod="a",container="vllm"} 36864
				DCGM_FI_DEV_FB_FREE{%1$s,namespace="inference",pod="a",container="vllm"} 45056
				""".formatted(gpu0, gpu1, util0, active0, util1, active1);
	}

	private void scrape(Instant at, double util0, double active0, double util1, double active1) {
		this.readings.scraped("gpu-operator/dcgm-n1", exposition(util0, active0, util1, active1), at);
		this.measurements.observe(this.readings.readings(at, STALE), at, List.of(),
				Map.of("gpu-operator/dcgm-n1", "n1"));
	}

	private static GpuAttribution.Attribution attribution(Map<String, Double> endpoints) {
		return new GpuAttribution.Attribution(
				Map.of(new GpuUsageKey("t", Tier.P1, "m", LocalDate.of(2026, 11, 29)), 1.0), Map.of(),
				Map.of("n1", 1.0), endpoints);
	}

	@Test
	void measuredTimeIsEachScrapesBusyFractionTimesTheTimeSinceTheLastAndTheRemainderIsMeasuredMinusAttributed() {
		scrape(T0, 100, 0.5, 0, 0);
		scrape(T0.plusSeconds(1), 100, 0.5, 0, 0);
		scrape(T0.plusSeconds(3), 40, 0.25, 100, 1.0);
		// The engine's activity counts, not "a kernel ran": 0.5 x 1 s + 0.25 x 2 s.
		this.measurements.attributed(attribution(Map.of("inference/a", 0.6, "inference/b", 0.3, "inference/c", 0.1)),
				Map.of("inference/c", "n1"));

		GpuMeasurements.Report report = this.measurements.report(T0.plusSeconds(3), STALE);
		assertThat(report.since()).isEqualTo(T0);
		GpuMeasurements.NodeFigures node = report.nodes().get(0);
		GpuMeasurements.GpuFigures gpu0 = node.gpus().get(0);
		GpuMeasurements.GpuFigures gpu1 = node.gpus().get(1);
		assertThat(gpu0.pods()).containsExactly("inference/a", "inference/b");
		assertThat(gpu0.measuredBusySeconds()).isCloseTo(1.0, within(1e-9));
		assertThat(gpu0.attributedBusySeconds()).isCloseTo(0.9, within(1e-9));
		assertThat(gpu0.unattributedSeconds()).isCloseTo(0.1, within(1e-9));
		assertThat(gpu0.utilization()).isCloseTo(0.40, within(1e-9));
		assertThat(gpu0.engineActive()).isCloseTo(0.25, within(1e-9));
		assertThat(gpu0.framebufferUsedMiB()).isEqualTo(36864);
		// Busy 2 s at 1.0, nobody's lease: all of it unattributed.
		assertThat(gpu1.measuredBusySeconds()).isCloseTo(2.0, within(1e-9));
		assertThat(gpu1.unattributedSeconds()).isCloseTo(2.0, within(1e-9));
		// The endpoint no exporter names counts on its node.
		assertThat(node.unplacedBusySeconds()).isCloseTo(0.1, within(1e-9));
		assertThat(node.measuredBusySeconds()).isCloseTo(3.0, within(1e-9));
		assertThat(node.attributedBusySeconds()).isCloseTo(1.0, within(1e-9));
		assertThat(node.unattributedSeconds()).isCloseTo(2.0, within(1e-9));
		assertThat(node.unattributedRatio()).isCloseTo(2.0 / 3, within(1e-9));
		assertThat(this.measurements.unattributed("n1")).isCloseTo(2.0, within(1e-9));
	}

	@Test
	void aGapLongerThanTheLimitIsCountedUnmeasuredAndOldFiguresAreStale() {
		scrape(T0, 100, 1.0, 0, 0);
		scrape(T0.plusSeconds(90), 100, 1.0, 0, 0);
		GpuMeasurements.GpuFigures gpu0 = this.measurements.report(T0.plusSeconds(90), STALE)
			.nodes()
			.get(0)
			.gpus()
			.get(0);
		assertThat(gpu0.measuredBusySeconds()).isZero();
		assertThat(gpu0.unmeasuredSeconds()).isCloseTo(90, within(1e-9));
		assertThat(gpu0.stale()).isFalse();
		assertThat(this.measurements.utilization("n1", "0", T0.plusSeconds(90), STALE)).isEqualTo(1.0);

		GpuMeasurements.GpuFigures later = this.measurements.report(T0.plusSeconds(200), STALE)
			.nodes()
			.get(0)
			.gpus()
			.get(0);
		assertThat(later.stale()).isTrue();
		assertThat(this.measurements.utilization("n1", "0", T0.plusSeconds(200), STALE)).isNaN();
	}

	@Test
	void historyKeepsBucketMeansForTheLastHourOnly() {
		scrape(T0, 100, 0.5, 0, 0);
		scrape(T0.plusSeconds(5), 50, 0.5, 0, 0);
		scrape(T0.plusSeconds(12), 20, 0.1, 0, 0);
		List<GpuMeasurements.History> history = this.measurements.history(T0.plusSeconds(12));
		assertThat(history).hasSize(2);
		List<GpuMeasurements.Point> points = history.get(0).points();
		assertThat(points).extracting(GpuMeasurements.Point::at).containsExactly(T0, T0.plusSeconds(10));
		assertThat(points.get(0).utilization()).isCloseTo(0.75, within(1e-9));
		assertThat(points.get(1).utilization()).isCloseTo(0.20, within(1e-9));
		assertThat(this.measurements.history(T0.plusSeconds(3605)).get(0).points()).hasSize(1);
		assertThat(this.measurements.history(T0.plusSeconds(7200)).get(0).points()).isEmpty();
	}

	@Test
	void aGpuNotReadForLongerThanTheHistoryIsForgottenWithItsPodsAndAnOldReadingDoesNotReviveIt() {
		scrape(T0, 100, 0.5, 0, 0);
		assertThat(this.measurements.report(T0, STALE).nodes()).extracting(GpuMeasurements.NodeFigures::node)
			.containsExactly("n1");
		// Node n1 is scaled away; another node's exporter goes on being read. n1's last
		// reading is still held by the readings, ever older.
		Instant later = T0.plus(Duration.ofMinutes(61));
		String n2 = "DCGM_FI_DEV_GPU_UTIL{gpu=\"0\",UUID=\"GPU-c\",modelName=\"NVIDIA L4\",Hostname=\"n2\","
				+ "namespace=\"inference\",pod=\"c\",container=\"vllm\"} 50\n";
		this.readings.scraped("gpu-operator/dcgm-n2", n2, later);
		List<String> forgotten = this.measurements.observe(this.readings.readings(later, STALE), later, List.of(),
				Map.of("gpu-operator/dcgm-n1", "n1", "gpu-operator/dcgm-n2", "n2"));

		assertThat(forgotten).containsExactlyInAnyOrder("n1/0", "n1/1");
		GpuMeasurements.Report report = this.measurements.report(later, STALE);
		assertThat(report.nodes()).extracting(GpuMeasurements.NodeFigures::node).containsExactly("n2");
		assertThat(this.measurements.history(later)).extracting(GpuMeasurements.History::node).containsExactly("n2");
		// A pod of the forgotten GPU is no longer placed on it: its time is the node's,
		// unplaced.
		this.measurements.attributed(attribution(Map.of("inference/a", 0.5)), Map.of("inference/a", "n1"));
		assertThat(this.measurements.report(later, STALE).nodes()).filteredOn((node) -> node.node().equals("n1"))
			.singleElement()
			.satisfies((node) -> {
				assertThat(node.gpus()).isEmpty();
				assertThat(node.unplacedBusySeconds()).isCloseTo(0.5, within(1e-9));
			});
		// The next round still holds n1's old reading: it does not bring n1's GPUs back.
		Instant next = later.plusSeconds(10);
		assertThat(this.measurements.observe(this.readings.readings(next, STALE), next, List.of(),
				Map.of("gpu-operator/dcgm-n1", "n1", "gpu-operator/dcgm-n2", "n2")))
			.isEmpty();
		assertThat(this.measurements.report(next, STALE).nodes().stream().flatMap((node) -> node.gpus().stream()))
			.extracting(GpuMeasurements.GpuFigures::node)
			.containsExactly("n2");
	}

	@Test
	void aPodNoGpuHasListedForAnHourIsForgotten() {
		scrape(T0, 100, 0.5, 0, 0);
		// The same GPU, an hour later, without pods a and b (they ended).
		Instant later = T0.plus(Duration.ofMinutes(61));
		String gpu0 = "DCGM_FI_DEV_GPU_UTIL{gpu=\"0\",UUID=\"GPU-a\",modelName=\"NVIDIA A100-SXM4-80GB\","
				+ "Hostname=\"n1\"} 10\n";
		for (Instant at = T0.plusSeconds(30); !at.isAfter(later); at = at.plusSeconds(30)) {
			this.readings.scraped("gpu-operator/dcgm-n1", gpu0, at);
			this.measurements.observe(this.readings.readings(at, STALE), at, List.of(),
					Map.of("gpu-operator/dcgm-n1", "n1"));
		}
		this.measurements.attributed(attribution(Map.of("inference/a", 0.5)), Map.of("inference/a", "n1"));
		GpuMeasurements.NodeFigures node = this.measurements.report(later, STALE).nodes().get(0);
		assertThat(node.gpus()).extracting(GpuMeasurements.GpuFigures::gpu).containsExactly("0");
		assertThat(node.gpus().get(0).attributedBusySeconds()).isZero();
		assertThat(node.unplacedBusySeconds()).isCloseTo(0.5, within(1e-9));
	}

	@Test
	void aNodesUnplacedTimeIsForgottenAnHourAfterItsLastAttributionWhenTheNodeHasNoGpu() {
		// n1 has GPUs; n9 and n8 (scaled away, their pods never placed on a known GPU)
		// have none.
		scrape(T0, 100, 0.5, 0, 0);
		this.measurements.attributed(attribution(Map.of("inference/x", 0.5, "inference/a", 0.25)),
				Map.of("inference/x", "n9", "inference/a", "n1"));
		this.measurements.attributed(attribution(Map.of("inference/y", 0.75)), Map.of("inference/y", "n8"));
		Instant at = T0;
		for (int round = 1; round <= 122; round++) {
			at = T0.plusSeconds(30L * round);
			if (round == 60) {
				// n8 is attributed again half an hour in: its hour starts over.
				this.measurements.attributed(attribution(Map.of("inference/y", 0.25)), Map.of("inference/y", "n8"));
			}
			scrape(at, 100, 0.5, 0, 0);
			if (round == 119) {
				// Just under an hour after n9's last attribution, it is still reported.
				assertThat(this.measurements.report(at, STALE).nodes()).extracting(GpuMeasurements.NodeFigures::node)
					.containsExactly("n1", "n8", "n9");
			}
		}
		GpuMeasurements.Report report = this.measurements.report(at, STALE);
		assertThat(report.nodes()).extracting(GpuMeasurements.NodeFigures::node).containsExactly("n1", "n8");
		assertThat(report.nodes().get(1).unplacedBusySeconds()).isCloseTo(1.0, within(1e-9));
		assertThat(this.measurements.unattributed("n9")).isZero();
		// n1 keeps its own unplaced time as long as it has a GPU, whatever its age.
		this.measurements.attributed(attribution(Map.of("inference/z", 0.125)), Map.of("inference/z", "n1"));
		for (int round = 1; round <= 130; round++) {
			at = at.plusSeconds(30);
			scrape(at, 100, 0.5, 0, 0);
		}
		assertThat(this.measurements.report(at, STALE).nodes()).singleElement().satisfies((node) -> {
			assertThat(node.node()).isEqualTo("n1");
			assertThat(node.unplacedBusySeconds()).isCloseTo(0.125, within(1e-9));
		});
	}

}
