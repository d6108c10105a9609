package dev.tiergate.metering;

import java.util.List;

/**
 * The overview chart's last hour, with where it comes from.
 *
 * @param source {@code prometheus} (read from {@code tiergate.metrics.prometheus-url},
 * the same for every replica) or {@code memory} (what this replica kept since its start)
 * @param warning why Prometheus was not used although it is configured, or {@code null}
 * @param gpus one series per GPU, sorted by node and GPU, oldest point first
 */
public record GpuHistory(String source, String warning, List<GpuMeasurements.History> gpus) {

	/** Read from Prometheus. */
	public static final String PROMETHEUS = "prometheus";

	/** This replica's memory. */
	public static final String MEMORY = "memory";

}
