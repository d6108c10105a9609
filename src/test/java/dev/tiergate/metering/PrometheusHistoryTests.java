package dev.tiergate.metering;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Tests for {@link PrometheusHistory}'s reading of {@code /api/v1/query_range} answers,
 * recorded from Prometheus 2.42 (Debian's package) running the reader's own three queries
 * with a 5 s step over gauges fixed at: GPU 0 of gpu-node-1 utilization 0.75, engine 0.5,
 * 2 of 8 slots in flight; its GPU 1 utilization 0, engine not collected (NaN), 1 of 4;
 * GPU 0 of gpu-node-2 stale (NaN) with no slots.
 */
class PrometheusHistoryTests {

	private static final long FIRST = 1796006240_000L;

	private static String recorded(String name) throws IOException {
		try (InputStream in = PrometheusHistoryTests.class
			.getResourceAsStream("prometheus-query-range-" + name + ".json")) {
			return new String(in.readAllBytes(), StandardCharsets.UTF_8);
		}
	}

	@Test
	void readsEachSeriesOfARecordedMatrixByNodeAndGpu() throws IOException {
		Map<String, TreeMap<Long, Double>> series = PrometheusHistory.parseMatrix(recorded("utilization"));

		assertThat(series).containsOnlyKeys("gpu-node-1/0", "gpu-node-1/1", "gpu-node-2/0");
		assertThat(series.get("gpu-node-1/0")).hasSize(7)
			.containsEntry(FIRST, 0.75)
			.containsEntry(FIRST + 30_000, 0.75);
		assertThat(series.get("gpu-node-1/1").values()).containsOnly(0.0);
		assertThat(series.get("gpu-node-2/0").values()).allMatch((value) -> value.isNaN());
	}

	@Test
	void pointsPutTheThreeSeriesTogetherAtTheStartOfTheStepTheyAverage() throws IOException {
		List<GpuMeasurements.History> history = PrometheusHistory.merge(
				PrometheusHistory.parseMatrix(recorded("utilization")),
				PrometheusHistory.parseMatrix(recorded("engine-active")),
				PrometheusHistory.parseMatrix(recorded("occupancy")), 5_000);

		assertThat(history).extracting((gpu) -> gpu.node() + "/" + gpu.gpu())
			.containsExactly("gpu-node-1/0", "gpu-node-1/1", "gpu-node-2/0");
		GpuMeasurements.History busy = history.get(0);
		assertThat(busy.points()).hasSize(7);
		GpuMeasurements.Point first = busy.points().get(0);
		assertThat(first.at()).isEqualTo(Instant.ofEpochMilli(FIRST - 5_000));
		assertThat(first.utilization()).isEqualTo(0.75);
		assertThat(first.engineActive()).isEqualTo(0.5);
		assertThat(first.slotOccupancy()).isEqualTo(0.25);
		GpuMeasurements.Point idle = history.get(1).points().get(6);
		assertThat(idle.at()).isEqualTo(Instant.ofEpochMilli(FIRST + 25_000));
		assertThat(idle.utilization()).isZero();
		assertThat(idle.engineActive()).isNaN();
		assertThat(idle.slotOccupancy()).isEqualTo(0.25);
		// A stale GPU (NaN utilization) is listed, without points.
		assertThat(history.get(2).points()).isEmpty();
	}

	@Test
	void aRecordedErrorAnswerIsRefusedWithPrometheusReason() {
		assertThatThrownBy(() -> PrometheusHistory.parseMatrix(recorded("bad-data")))
			.isInstanceOf(PrometheusHistory.InvalidAnswerException.class)
			.hasMessageContaining("bad_data")
			.hasMessageContaining("parse error");
	}

	@Test
	void answersThatAreNotASuccessfulMatrixAreRefused() {
		assertThatThrownBy(() -> PrometheusHistory.parseMatrix("<html>502 Bad Gateway</html>"))
			.isInstanceOf(PrometheusHistory.InvalidAnswerException.class)
			.hasMessage("Prometheus answered no valid JSON");
		assertThatThrownBy(() -> PrometheusHistory.parseMatrix("[1, 2]"))
			.isInstanceOf(PrometheusHistory.InvalidAnswerException.class);
		assertThatThrownBy(() -> PrometheusHistory
			.parseMatrix("{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[]}}"))
			.hasMessageContaining("resultType 'vector'");
		assertThatThrownBy(() -> PrometheusHistory.parseMatrix(
				"{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[{\"metric\":{\"node\":\"n\",\"gpu\":\"0\"},\"values\":[[1,\"x\"]]}]}}"))
			.hasMessageContaining("not a number");
		assertThatThrownBy(() -> PrometheusHistory.parseMatrix(
				"{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[{\"metric\":{\"node\":\"n\",\"gpu\":\"0\"},\"values\":[\"1\"]}]}}"))
			.hasMessageContaining("not [time, \"value\"]");
	}

	@Test
	void seriesWithoutNodeOrGpuLabelsAreLeftOutAndInfinitiesRead() {
		Map<String, TreeMap<Long, Double>> series = PrometheusHistory.parseMatrix("""
				{"status":"success","data":{"resultType":"matrix","result":[
				  {"metric":{"node":"n"},"values":[[10,"1"]]},
				  {"metric":{"node":"n","gpu":"0"},"values":[[10.5,"+Inf"],[11,"-Inf"]]}]}}""");

		assertThat(series).containsOnlyKeys("n/0");
		assertThat(series.get("n/0")).containsEntry(10_500L, Double.POSITIVE_INFINITY)
			.containsEntry(11_000L, Double.NEGATIVE_INFINITY);
	}

}
