package dev.tiergate.routing;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.tiergate.cluster.InMemoryClusterView;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link EndpointHealth}: passive ejection on consecutive failures, a backoff
 * that grows on an injected clock, probing back, and the share of a pool that may be
 * ejected.
 */
class EndpointHealthTests {

	private final MutableClock clock = new MutableClock(Instant.parse("2026-11-02T10:00:00Z"));

	private final InMemoryClusterView cluster = new InMemoryClusterView();

	private final EndpointRegistry registry = new EndpointRegistry(this.cluster,
			RoutingProperties.withSlots(8, Map.of()));

	private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

	private final EndpointHealth health = new EndpointHealth(this.registry,
			new RoutingProperties.Health(3, Duration.ofSeconds(5), Duration.ofSeconds(30), 50, "/health"), this.clock,
			this.meters);

	private final List<String> events = new ArrayList<>();

	private Endpoint a;

	@BeforeEach
	void pool() {
		for (String name : List.of("a", "b", "c", "d")) {
			this.cluster.upsert(InMemoryClusterView.pod(name, "llama", 8));
		}
		this.a = endpoint("a");
		this.registry.addListener(new EndpointRegistry.EndpointListener() {

			@Override
			public void upserted(Endpoint endpoint) {
				EndpointHealthTests.this.events.add(endpoint.key() + ":" + endpoint.accepting());
			}

			@Override
			public void removed(Endpoint endpoint) {
			}

		});
		this.events.clear();
	}

	private Endpoint endpoint(String name) {
		return this.registry.pool("llama")
			.stream()
			.filter((e) -> e.key().equals("default/" + name))
			.findFirst()
			.orElseThrow();
	}

	private void fail(Endpoint endpoint, int times) {
		for (int i = 0; i < times; i++) {
			this.health.record(endpoint, EndpointHealth.Outcome.CONNECT_ERROR, "Connection refused");
		}
	}

	@Test
	void consecutiveFailuresEjectAnEndpointAndTheDispatcherHearsItStoppedAccepting() {
		fail(this.a, 2);
		assertThat(this.a.accepting()).isTrue();
		fail(this.a, 1);
		assertThat(this.a.health()).isEqualTo(Endpoint.Health.EJECTED);
		assertThat(this.a.accepting()).isFalse();
		assertThat(this.a.podRoutable()).isTrue();
		assertThat(this.events).containsExactly("default/a:false");
		assertThat(this.a.lastError()).isEqualTo("connect_error: Connection refused");
		assertThat(this.meters.get("tiergate.endpoint.ejections").tag("model", "llama").counter().count()).isEqualTo(1);
		assertThat(this.meters.get("tiergate.endpoint.requests").tag("outcome", "connect_error").counter().count())
			.isEqualTo(3);
	}

	@Test
	void aSuccessInBetweenResetsTheCountAndClientSideEndingsDoNotCount() {
		fail(this.a, 2);
		this.health.record(this.a, EndpointHealth.Outcome.SUCCESS, "");
		fail(this.a, 2);
		this.health.record(this.a, EndpointHealth.Outcome.CLIENT_GONE, "client gone");
		this.health.record(this.a, EndpointHealth.Outcome.PREEMPTED, "preempted");
		assertThat(this.a.accepting()).isTrue();
		assertThat(this.a.consecutiveFailures()).isEqualTo(2);
	}

	@Test
	void anEjectedEndpointIsProbedAfterItsBackoffAndReadmittedWhenTheProbeSucceeds() {
		fail(this.a, 3);
		assertThat(this.health.dueForProbe()).isEmpty();
		this.clock.advance(Duration.ofSeconds(5));
		assertThat(this.health.dueForProbe()).containsExactly(this.a);
		this.health.probed(this.a, true, null);
		assertThat(this.a.accepting()).isTrue();
		assertThat(this.events).containsExactly("default/a:false", "default/a:true");
	}

	@Test
	void theBackoffDoublesWithEachFailedProbeUpToItsMaximum() {
		fail(this.a, 3);
		long start = this.clock.nanos();
		assertThat(this.a.ejectedUntilNanos() - start).isEqualTo(Duration.ofSeconds(5).toNanos());
		List<Long> backoffs = new ArrayList<>();
		for (int i = 0; i < 4; i++) {
			this.clock.advance(Duration.ofNanos(this.a.ejectedUntilNanos() - this.clock.nanos()));
			this.health.probed(this.a, false, "Connection refused");
			backoffs.add((this.a.ejectedUntilNanos() - this.clock.nanos()) / 1_000_000_000L);
		}
		assertThat(backoffs).containsExactly(10L, 20L, 30L, 30L);
		assertThat(this.a.lastError()).isEqualTo("probe: Connection refused");
		assertThat(this.a.accepting()).isFalse();
	}

	@Test
	void anEndpointThatFailsAgainSoonAfterReadmissionIsEjectedForLonger() {
		fail(this.a, 3);
		this.clock.advance(Duration.ofSeconds(5));
		this.health.probed(this.a, true, null);
		this.health.record(this.a, EndpointHealth.Outcome.SUCCESS, "");
		fail(this.a, 3);
		assertThat(this.a.ejectedUntilNanos() - this.clock.nanos()).isEqualTo(Duration.ofSeconds(10).toNanos());
	}

	@Test
	void atMostTheConfiguredShareOfAPoolIsEjected() {
		fail(this.a, 3);
		fail(endpoint("b"), 3);
		fail(endpoint("c"), 3);
		assertThat(this.registry.pool("llama")).filteredOn((e) -> e.health() == Endpoint.Health.EJECTED).hasSize(2);
		assertThat(endpoint("c").accepting()).isTrue();
	}

	@Test
	void upstreamLatencyIsRecordedPerModel() {
		this.health.recordLatency("llama", Duration.ofMillis(40), Duration.ofMillis(900));
		assertThat(this.meters.get("tiergate.endpoint.upstream.first.byte").tag("model", "llama").timer().count())
			.isEqualTo(1);
		assertThat(this.meters.get("tiergate.endpoint.upstream.duration").tag("model", "llama").timer().count())
			.isEqualTo(1);
	}

}
