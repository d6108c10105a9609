package dev.tiergate.metering;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.within;

/**
 * Tests for {@link DcgmExposition} and {@link DcgmReadings}, against an exposition in the
 * DCGM exporter's documented format.
 */
class DcgmReadingsTests {

	private static final Instant T0 = Instant.parse("2026-11-29T12:00:00Z");

	private static final Duration STALE_AFTER = Duration.ofSeconds(30);

	private static String recorded() {
		return new String(RecordedDcgmExposition.bytes(), StandardCharsets.UTF_8);
	}

	@Test
	void theRecordedExpositionGivesEachGpusUtilizationEngineActivityAndMemory() throws IOException {
		List<DcgmExposition.GpuSample> samples = DcgmExposition.parse(recorded());
		assertThat(samples).hasSize(2);
		DcgmExposition.GpuSample busy = samples.get(0);
		assertThat(busy.hostname()).isEqualTo("gpu-node-1");
		assertThat(busy.gpu()).isEqualTo("0");
		assertThat(busy.uuid()).isEqualTo("GPU-604ac76c-d9cf-fef3-62e9-d92044ab6e52");
		assertThat(busy.product()).isEqualTo("NVIDIA A100-SXM4-80GB");
		assertThat(busy.utilization()).isEqualTo(87);
		assertThat(busy.graphicsEngineActive()).isCloseTo(0.812345, within(1e-9));
		assertThat(busy.framebufferUsedMiB()).isEqualTo(73525);
		assertThat(busy.framebufferFreeMiB()).isEqualTo(7512);
		assertThat(busy.busy()).isCloseTo(0.812345, within(1e-9));
		assertThat(samples.get(1).gpu()).isEqualTo("1");
		assertThat(samples.get(1).busy()).isZero();
	}

	@Test
	void withoutProfilingMetricsBusyIsUtilizationOverAHundred() {
		List<DcgmExposition.GpuSample> samples = DcgmExposition.parse("""
				DCGM_FI_DEV_GPU_UTIL{gpu="3",UUID="GPU-x",Hostname="n2",modelName="NVIDIA L4"} 25
				DCGM_FI_DEV_FB_USED{gpu="3",UUID="GPU-x",Hostname="n2",modelName="NVIDIA L4"} 1024
				""");
		assertThat(samples).singleElement().satisfies((s) -> {
			assertThat(s.graphicsEngineActive()).isNaN();
			assertThat(s.framebufferFreeMiB()).isNaN();
			assertThat(s.busy()).isEqualTo(0.25);
		});
	}

	@Test
	void anExpositionWithoutUtilizationIsRefused() {
		assertThatIllegalArgumentException()
			.isThrownBy(() -> DcgmExposition.parse("# nothing\nvllm:num_requests_running 1\n"))
			.withMessageContaining("DCGM_FI_DEV_GPU_UTIL");
	}

	@Test
	void aFailingExporterKeepsItsLastFiguresWithTheErrorAndTheyGoStale() throws IOException {
		DcgmReadings readings = new DcgmReadings();
		readings.scraped("gpu-operator/dcgm-a", recorded(), T0);
		assertThat(readings.readings(T0.plusSeconds(5), STALE_AFTER)).hasSize(2)
			.allSatisfy((r) -> assertThat(r.stale()).isFalse())
			.allSatisfy((r) -> assertThat(r.error()).isNull());
		readings.failed("gpu-operator/dcgm-a", "connect timed out");
		assertThat(readings.readings(T0.plusSeconds(10), STALE_AFTER)).hasSize(2).allSatisfy((r) -> {
			assertThat(r.stale()).isFalse();
			assertThat(r.error()).isEqualTo("connect timed out");
			assertThat(r.age()).isEqualTo(Duration.ofSeconds(10));
		});
		assertThat(readings.readings(T0.plusSeconds(31), STALE_AFTER))
			.allSatisfy((r) -> assertThat(r.stale()).isTrue());
		readings.scraped("gpu-operator/dcgm-a", recorded(), T0.plusSeconds(40));
		assertThat(readings.readings(T0.plusSeconds(41), STALE_AFTER))
			.allSatisfy((r) -> assertThat(r.stale()).isFalse())
			.allSatisfy((r) -> assertThat(r.error()).isNull());
	}

	@Test
	void anExporterNeverReadIsShownStaleWithItsError() {
		DcgmReadings readings = new DcgmReadings();
		readings.failed("gpu-operator/dcgm-b", "HTTP 503");
		readings.scraped("gpu-operator/dcgm-c", "garbage", T0);
		assertThat(readings.readings(T0, STALE_AFTER)).hasSize(2).allSatisfy((r) -> {
			assertThat(r.sample()).isNull();
			assertThat(r.stale()).isTrue();
			assertThat(r.error()).isNotBlank();
		});
	}

}
