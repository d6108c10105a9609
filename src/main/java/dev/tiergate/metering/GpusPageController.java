package dev.tiergate.metering;

import java.time.Clock;

import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;

/**
 * The overview's GPU part, {@code /fragments/gpus}: measured utilization beside slot
 * occupancy per node and GPU, the unattributed remainder, and the last hour's chart
 * (drawn in the browser from {@code /api/v1/metering/gpus/history}). The overview loads
 * it with htmx and refreshes it every few seconds.
 */
@Controller
class GpusPageController {

	private final GpuMeasurements measurements;

	private final MeteringProperties properties;

	private final Clock clock;

	GpusPageController(GpuMeasurements measurements, MeteringProperties properties, Clock clock) {
		this.measurements = measurements;
		this.properties = properties;
		this.clock = clock;
	}

	@GetMapping("/fragments/gpus")
	String gpus(Model model) {
		model.addAttribute("report",
				this.measurements.report(this.clock.instant(), this.properties.dcgm().staleAfter()));
		return "metering/gpus :: gpus";
	}

}
