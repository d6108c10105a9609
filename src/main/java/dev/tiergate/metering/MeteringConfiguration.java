package dev.tiergate.metering;

import java.time.Clock;
import java.util.HashMap;
import java.util.Map;

import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.tiergate.cluster.ClusterView;
import dev.tiergate.cluster.GpuExporters;
import dev.tiergate.cost.PriceSheets;
import dev.tiergate.dispatch.DispatchRuntime;
import dev.tiergate.quota.QuotaService;
import dev.tiergate.routing.EndpointRegistry;

/**
 * Metering's beans, when {@code tiergate.metering.enabled} (the default): the meter,
 * listening to the dispatch runtime's leases, the writer that adds its GPU-seconds to the
 * tenants' usage, and the DCGM scraping whose measured busy time is set against what the
 * meter attributed; the overview's history comes from Prometheus when
 * {@code tiergate.metrics.prometheus-url} is set ({@link GpuHistories}).
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnProperty(name = "tiergate.metering.enabled", matchIfMissing = true)
class MeteringConfiguration {

	@Bean
	GpuMeter gpuMeter(ClusterView cluster, Clock clock, DispatchRuntime runtime, PriceSheets prices) {
		GpuMeter meter = new GpuMeter(cluster, clock,
				(product) -> prices.current().gpuHourly().getOrDefault(product, 0.0));
		runtime.addLeaseListener(meter);
		return meter;
	}

	@Bean
	DcgmReadings dcgmReadings() {
		return new DcgmReadings();
	}

	@Bean
	GpuMeasurements gpuMeasurements(MeteringProperties properties) {
		MeteringProperties.Dcgm dcgm = properties.dcgm();
		return new GpuMeasurements(dcgm.maxGap(), dcgm.history(), dcgm.historyStep());
	}

	@Bean
	GpuHistories gpuHistories(GpuMeasurements measurements, MeteringProperties metering, MetricsProperties metrics,
			Clock clock) {
		PrometheusHistory prometheus = metrics.prometheusEnabled()
				? new PrometheusHistory(metrics, metering.dcgm().history(), metering.dcgm().historyStep()) : null;
		return new GpuHistories(measurements, prometheus, clock);
	}

	@Bean
	DcgmScraping dcgmScraping(GpuExporters exporters, DcgmReadings readings, GpuMeasurements measurements,
			EndpointRegistry registry, MeteringProperties properties, Clock clock, MeterRegistry meters) {
		return new DcgmScraping(exporters, readings, measurements, registry, properties.dcgm(), clock, meters);
	}

	@Bean
	GpuUsageWriter gpuUsageWriter(GpuMeter meter, QuotaService quota, MeteringProperties properties,
			MeterRegistry meters, GpuMeasurements measurements, EndpointRegistry registry) {
		return new GpuUsageWriter(meter, quota, meters, properties.maxTenantLabels()).onDrain((drained) -> {
			Map<String, String> nodes = new HashMap<>();
			registry.endpoints().forEach((endpoint) -> nodes.put(endpoint.key(), endpoint.node()));
			measurements.attributed(drained, nodes);
		}).start(properties.flushInterval());
	}

}
