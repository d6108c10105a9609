package dev.tiergate.web;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.context.SmartLifecycle;
import org.springframework.mock.web.MockFilterChain;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;

import dev.tiergate.cluster.InMemoryClusterView;
import dev.tiergate.dispatch.DispatchProperties;
import dev.tiergate.dispatch.DispatchRuntime;
import dev.tiergate.routing.EndpointRegistry;
import dev.tiergate.routing.MutableClock;
import dev.tiergate.routing.RoutingProperties;
import dev.tiergate.tier.TierProperties;
import dev.tiergate.tier.Tiers;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link GracefulShutdown}: readiness goes down before the dispatcher answers
 * its waiting requests, and both happen before the web server's graceful shutdown.
 */
class GracefulShutdownTests {

	private final DispatchRuntime dispatch = new DispatchRuntime(
			new EndpointRegistry(new InMemoryClusterView(), RoutingProperties.withSlots(1, Map.of())),
			new Tiers(TierProperties.DEFAULTS), new DispatchProperties(2, 1000, Duration.ofSeconds(1)),
			new MutableClock(Instant.parse("2026-11-29T12:00:00Z")), new SimpleMeterRegistry());

	private final ClosingConnections connections = new ClosingConnections();

	@Test
	void readinessGoesDownThenWaitingRequestsAreAnswered() {
		List<String> steps = new ArrayList<>();
		GracefulShutdown shutdown = new GracefulShutdown((event) -> {
			if (event instanceof AvailabilityChangeEvent<?> change) {
				steps.add(change.getState() + " closing=" + this.dispatch.closing() + " draining="
						+ this.connections.draining());
			}
		}, this.dispatch, new ShutdownProperties(Duration.ZERO), this.connections);
		shutdown.start();
		assertThat(shutdown.isRunning()).isTrue();
		shutdown.stop();
		assertThat(steps).containsExactly(ReadinessState.REFUSING_TRAFFIC + " closing=false draining=false");
		assertThat(this.dispatch.closing()).isTrue();
		assertThat(this.connections.draining()).isTrue();
		assertThat(shutdown.isRunning()).isFalse();
		// Before the web server's graceful shutdown (DEFAULT_PHASE - 1024).
		assertThat(shutdown.getPhase()).isGreaterThan(SmartLifecycle.DEFAULT_PHASE - 1024);
	}

	@Test
	void answersCloseTheirConnectionOnlyWhileDraining() throws Exception {
		MockHttpServletResponse before = new MockHttpServletResponse();
		this.connections.doFilter(new MockHttpServletRequest("POST", "/v1/chat/completions"), before,
				new MockFilterChain());
		assertThat(before.getHeader("Connection")).isNull();
		this.connections.drain();
		MockHttpServletResponse during = new MockHttpServletResponse();
		MockFilterChain chain = new MockFilterChain();
		this.connections.doFilter(new MockHttpServletRequest("POST", "/v1/chat/completions"), during, chain);
		assertThat(during.getHeader("Connection")).isEqualTo("close");
		assertThat(chain.getRequest()).as("the request still goes on").isNotNull();
	}

}
