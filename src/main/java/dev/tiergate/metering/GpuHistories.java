package dev.tiergate.metering;

import java.time.Clock;
import java.time.Instant;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The overview chart's last hour: from Prometheus when
 * {@code tiergate.metrics.prometheus-url} is set, else, or when Prometheus fails
 * (unreachable, slower than its timeout, an error or an answer that is not a matrix, no
 * Tiergate series), from this replica's {@link GpuMeasurements} with a warning saying
 * why. A failure is logged once when it starts and once when Prometheus answers again,
 * not on every read.
 */
public class GpuHistories {

	private static final Logger logger = LoggerFactory.getLogger(GpuHistories.class);

	private final GpuMeasurements measurements;

	private final PrometheusHistory prometheus;

	private final Clock clock;

	private volatile boolean failing;

	/**
	 * Histories.
	 * @param measurements this replica's history
	 * @param prometheus the Prometheus reader, or {@code null} when none is configured
	 * @param clock the clock
	 */
	public GpuHistories(GpuMeasurements measurements, PrometheusHistory prometheus, Clock clock) {
		this.measurements = measurements;
		this.prometheus = prometheus;
		this.clock = clock;
	}

	/**
	 * The last hour.
	 * @return per GPU, with its source
	 */
	public GpuHistory lastHour() {
		Instant now = this.clock.instant();
		if (this.prometheus == null) {
			return new GpuHistory(GpuHistory.MEMORY, null, this.measurements.history(now));
		}
		PrometheusHistory.Outcome outcome = this.prometheus.read(now);
		if (outcome instanceof PrometheusHistory.Read read) {
			if (this.failing) {
				this.failing = false;
				logger.info("GPU history is read from Prometheus again");
			}
			return new GpuHistory(GpuHistory.PROMETHEUS, null, read.gpus());
		}
		String reason = ((PrometheusHistory.Failed) outcome).reason();
		if (!this.failing) {
			this.failing = true;
			logger.warn("GPU history falls back to this replica's memory: {}", reason);
		}
		return new GpuHistory(GpuHistory.MEMORY, reason + "; showing this replica's own history since its start",
				this.measurements.history(this.clock.instant()));
	}

}
