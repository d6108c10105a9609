package dev.tiergate.metering;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.PositiveOrZero;

/**
 * GPU metering.
 *
 * @param enabled whether lease time is attributed and stored as GPU-seconds
 * @param flushInterval how often attributed GPU-seconds are added to the tenants' usage
 * in Redis (one pipelined write per interval); running leases are charged up to each
 * flush
 * @param maxTenantLabels most distinct tenants named in the {@code tenant} label of
 * {@code tiergate_tenant_gpu_seconds_total}; GPU-seconds of further tenants count under
 * {@code tenant="other"} (0 names none), so the metric's series stay bounded however many
 * tenants there are; per-tenant figures beyond it are in the usage API and CSV
 * @param dcgm scraping of the DCGM exporters
 */
@Validated
@ConfigurationProperties("tiergate.metering")
public record MeteringProperties(@DefaultValue("true") boolean enabled,
		@DefaultValue("15s") @NotNull Duration flushInterval, @DefaultValue("100") @PositiveOrZero int maxTenantLabels,
		@DefaultValue @Valid @NotNull Dcgm dcgm) {

	/**
	 * Scraping of the DCGM exporters (found by {@code tiergate.cluster.gpu-exporters}),
	 * on a thread of its own.
	 *
	 * @param scrapeInterval how often every exporter is read; the exporter's figures
	 * average over its own sample period, so measured busy time is most exact when the
	 * two are equal (the GPU Operator's exporter collects every 30 s by default, its
	 * {@code -c} option)
	 * @param timeout longest one scrape may take, body included
	 * @param staleAfter age past which a GPU's figures are flagged stale (and its gauge
	 * reads NaN)
	 * @param maxGap longest time between two scrapes of a GPU that is integrated into its
	 * measured busy time; a longer gap is counted as unmeasured
	 * @param history how much utilization history each replica keeps in memory for the
	 * overview's chart
	 * @param historyStep the width of one history point
	 */
	public record Dcgm(@DefaultValue("15s") @NotNull Duration scrapeInterval,
			@DefaultValue("5s") @NotNull Duration timeout, @DefaultValue("1m") @NotNull Duration staleAfter,
			@DefaultValue("1m") @NotNull Duration maxGap, @DefaultValue("1h") @NotNull Duration history,
			@DefaultValue("30s") @NotNull Duration historyStep) {

	}

}
