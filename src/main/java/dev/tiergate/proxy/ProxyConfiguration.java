package dev.tiergate.proxy;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.server.observation.ServerRequestObservationContext;

import dev.tiergate.spill.Spillover;
import io.micrometer.observation.ObservationPredicate;
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

	/**
	 * Spring MVC's {@code http.server.requests} observation (http_server_requests, server
	 * spans) for the OpenAI API only when {@code tiergate.proxy.observe-requests} is on:
	 * the proxy counts and times every request itself (tiergate_proxy_requests_total,
	 * tiergate_proxy_duration_seconds by model, tier and outcome), and the observation's
	 * meters took about 5% of the front door's execution samples (docs/benchmarks.md).
	 * Dashboard and REST API requests are observed as before.
	 */
	@Bean
	ObservationPredicate openAiRequestsObservedByTheProxy(ProxyProperties properties) {
		boolean observe = properties.observeRequests();
		return (name, context) -> observe || !(context instanceof ServerRequestObservationContext request)
				|| request.getCarrier() == null || !request.getCarrier().getRequestURI().startsWith("/v1/");
	}

	/**
	 * The one thread that checks the proxy's timeouts (answers' idle timeouts, client
	 * probes).
	 */
	@Bean(destroyMethod = "close")
	Sweeper proxySweeper(ProxyProperties properties) {
		return new Sweeper("proxy-sweeper", Sweeper.tickFor(properties.clientProbeInterval()));
	}

	@Bean
	ClientProbes clientProbes(ProxyProperties properties, Sweeper sweeper) {
		return new ClientProbes(properties.clientProbeInterval(), sweeper);
	}

	@Bean
	HostedSpill hostedSpill(Spillover spillover, JsonMapper json, ProxyProperties properties, Sweeper sweeper) {
		return new HostedSpill(spillover, json, properties, sweeper);
	}

}
