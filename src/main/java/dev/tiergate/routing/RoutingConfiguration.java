package dev.tiergate.routing;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.tiergate.cluster.ClusterView;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Routing's beans.
 */
@Configuration(proxyBeanMethods = false)
class RoutingConfiguration {

	@Bean
	EndpointRegistry endpointRegistry(ClusterView clusterView, RoutingProperties properties, MeterRegistry meters) {
		EndpointRegistry registry = new EndpointRegistry(clusterView, properties);
		Gauge.builder("tiergate.routing.endpoints", registry, (r) -> r.endpoints().stream().filter(Endpoint::accepting).count())
			.description("Endpoints accepting requests")
			.register(meters);
		Gauge.builder("tiergate.routing.inflight", registry, (r) -> r.endpoints().stream().mapToInt(Endpoint::inFlight).sum())
			.description("Requests in flight on all endpoints")
			.register(meters);
		return registry;
	}

}
