package dev.tiergate.web;

import java.util.Map;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.config.MeterFilter;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Keeps the whole {@code /actuator/prometheus} exposition clean for
 * {@code promtool check metrics}: the observation-based timers Spring and Lettuce
 * register without a description get help text here. What Tiergate does not need is
 * turned off in {@code application.yaml} instead (Spring Security's filter-chain
 * observations, whose names are camelCase; the JIT and CPU time counters, named with
 * abbreviated units).
 */
@Configuration(proxyBeanMethods = false)
class MetricsExpositionConfiguration {

	/** Help text of meters registered without one, by meter name. */
	static final Map<String, String> DESCRIPTIONS = Map.of("http.server.requests",
			"Duration of HTTP requests served by Tiergate (dashboard, REST and OpenAI APIs)",
			"http.server.requests.active", "HTTP requests Tiergate is serving now, and for how long", "lettuce",
			"Duration of Redis commands sent by Lettuce (quota, tenants, audit)", "lettuce.active",
			"Redis commands in flight through Lettuce, and for how long");

	@Bean
	MeterFilter helpTextForUndescribedMeters() {
		return new MeterFilter() {
			@Override
			public Meter.Id map(Meter.Id id) {
				String description = DESCRIPTIONS.get(id.getName());
				if (description == null || id.getDescription() != null) {
					return id;
				}
				return new Meter.Id(id.getName(), io.micrometer.core.instrument.Tags.of(id.getTagsAsIterable()),
						id.getBaseUnit(), description, id.getType());
			}
		};
	}

}
