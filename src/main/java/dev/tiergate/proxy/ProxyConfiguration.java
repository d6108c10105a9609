package dev.tiergate.proxy;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.server.observation.ServerRequestObservationContext;

import dev.tiergate.dispatch.DispatchProperties;
import dev.tiergate.spill.Spillover;
import dev.tiergate.tier.Tiers;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
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

	/**
	 * The open requests of this replica, limited by
	 * {@code tiergate.proxy.max-open-requests} (by default from the heap) and divided by
	 * the tiers' reserved shares, which it follows when they change.
	 */
	@Bean
	OpenRequests openRequests(ProxyProperties properties, Tiers tiers, DispatchProperties dispatch,
			MeterRegistry meters) {
		OpenRequests open = new OpenRequests(properties.openRequestLimit(Runtime.getRuntime().maxMemory()), tiers.all(),
				dispatch.retryAfter());
		tiers.onChange(open::tiersChanged);
		Gauge.builder("tiergate.proxy.open.requests", open, OpenRequests::open)
			.description("Front-door requests open on this replica, streams included")
			.register(meters);
		Gauge.builder("tiergate.proxy.open.requests.limit", open, OpenRequests::limit)
			.description("The most front-door requests this replica holds open (tiergate.proxy.max-open-requests)")
			.register(meters);
		return open;
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
