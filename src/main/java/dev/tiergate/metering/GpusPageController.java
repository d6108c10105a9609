package dev.tiergate.metering;

import java.time.Clock;

import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.ResponseBody;

/**
 * The overview's GPU part, {@code /fragments/gpus}: measured utilization beside slot
 * occupancy per node and GPU, the unattributed remainder, and the last hour's chart
 * (drawn in the browser from {@code /gpus/history.json}, from Prometheus or this
 * replica's memory, see {@link GpuHistories}). The overview loads it with htmx and
 * refreshes it every few seconds.
 */
@Controller
class GpusPageController {

	private final GpuMeasurements measurements;

	private final MeteringProperties properties;

	private final Clock clock;

	private final GpuHistories histories;

	GpusPageController(GpuMeasurements measurements, MeteringProperties properties, Clock clock,
			GpuHistories histories) {
		this.measurements = measurements;
		this.properties = properties;
		this.clock = clock;
		this.histories = histories;
	}

	@GetMapping("/fragments/gpus")
	String gpus(Model model) {
		model.addAttribute("report",
				this.measurements.report(this.clock.instant(), this.properties.dcgm().staleAfter()));
		return "metering/gpus :: gpus";
	}

	/**
	 * The chart's data for the dashboard session (the {@code /api} twin,
	 * {@code /api/v1/metering/gpus/history}, takes HTTP Basic or a token).
	 * @return the last hour per GPU, with its source (Prometheus or this replica's
	 * memory) and a warning when Prometheus is configured but failed
	 */
	@GetMapping(path = "/gpus/history.json", produces = "application/json")
	@ResponseBody
	GpuHistory history() {
		return this.histories.lastHour();
	}

}
