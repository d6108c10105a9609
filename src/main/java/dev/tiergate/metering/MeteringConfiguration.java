package dev.tiergate.metering;

import java.time.Clock;

import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.tiergate.cluster.ClusterView;
import dev.tiergate.cost.PriceSheets;
import dev.tiergate.dispatch.DispatchRuntime;
import dev.tiergate.quota.QuotaService;

/**
 * Metering's beans, when {@code tiergate.metering.enabled} (the default): the meter,
 * listening to the dispatch runtime's leases, and the writer that adds its GPU-seconds to
 * the tenants' usage.
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
	GpuUsageWriter gpuUsageWriter(GpuMeter meter, QuotaService quota, MeteringProperties properties,
			MeterRegistry meters) {
		return new GpuUsageWriter(meter, quota, meters, properties.maxTenantLabels()).start(properties.flushInterval());
	}

}
