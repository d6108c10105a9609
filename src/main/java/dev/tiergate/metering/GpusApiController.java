package dev.tiergate.metering;

import java.time.Clock;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code GET /api/v1/metering/gpus}: every node and GPU as measured by the DCGM exporters
 * (utilization, engine activity, memory, stale flag and last error) beside its slot
 * occupancy, and measured against attributed busy GPU-seconds with the unattributed
 * remainder; {@code GET /api/v1/metering/gpus/history}: the last hour per GPU, read from
 * Prometheus when {@code tiergate.metrics.prometheus-url} is set, else (or when
 * Prometheus fails, with a {@code warning}) kept by this replica; {@code source} says
 * which.
 */
@RestController
class GpusApiController {

	private final GpuMeasurements measurements;

	private final MeteringProperties properties;

	private final Clock clock;

	private final GpuHistories histories;

	GpusApiController(GpuMeasurements measurements, MeteringProperties properties, Clock clock,
			GpuHistories histories) {
		this.measurements = measurements;
		this.properties = properties;
		this.clock = clock;
		this.histories = histories;
	}

	@GetMapping("/api/v1/metering/gpus")
	GpuMeasurements.Report gpus() {
		return this.measurements.report(this.clock.instant(), this.properties.dcgm().staleAfter());
	}

	@GetMapping("/api/v1/metering/gpus/history")
	GpuHistory history() {
		return this.histories.lastHour();
	}

}
