package dev.tiergate.proxy;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.tiergate.dispatch.DispatchRuntime;
import dev.tiergate.routing.EndpointHealth;
import dev.tiergate.spill.Spillover;
import tools.jackson.databind.json.JsonMapper;

/**
 * Proxy's beans.
 */
@Configuration(proxyBeanMethods = false)
class ProxyConfiguration {

	@Bean(destroyMethod = "close")
	UpstreamClient upstreamClient(ProxyProperties properties) {
		return switch (properties.upstreamClient()) {
			case POOLED -> new PooledHttp1Client(properties.upstreamConnectTimeout(), properties.upstreamTimeout(),
					properties.upstreamPoolIdleTimeout(), properties.upstreamPoolMaxIdle());
			case JDK -> new UpstreamClient.Jdk(properties);
		};
	}

	@Bean
	ClientProbes clientProbes(ProxyProperties properties) {
		return new ClientProbes(properties.clientProbeInterval());
	}

	@Bean
	UpstreamExchange upstreamExchange(UpstreamClient upstream, DispatchRuntime dispatcher, EndpointHealth health,
			JsonMapper json, ProxyProperties properties) {
		return new UpstreamExchange(upstream, dispatcher, health, json, properties);
	}

	@Bean(destroyMethod = "close")
	HostedSpill hostedSpill(Spillover spillover, JsonMapper json, ProxyProperties properties) {
		return new HostedSpill(spillover, json, properties);
	}

}
