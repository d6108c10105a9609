package dev.tiergate.routing;

import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.tiergate.cluster.InMemoryClusterView;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for the balancing policies ({@link QueueAwarePolicy},
 * {@link PrefixAffinityPolicy}) on scripted scrapes and loads, and for
 * {@link BalancingPolicies}.
 */
class BalancingPoliciesTests {

	private static final long SECOND = 1_000_000_000L;

	private final MutableClock clock = new MutableClock(Instant.parse("2026-11-02T10:00:00Z"));

	private final InMemoryClusterView cluster = new InMemoryClusterView();

	private final EndpointRegistry registry = new EndpointRegistry(this.cluster,
			RoutingProperties.withSlots(8, Map.of()));

	private Endpoint a;

	private Endpoint b;

	private Endpoint c;

	@BeforeEach
	void pool() {
		for (String name : List.of("a", "b", "c")) {
			this.cluster.upsert(InMemoryClusterView.pod(name, "llama", 8));
		}
		this.a = endpoint("a");
		this.b = endpoint("b");
		this.c = endpoint("c");
	}

	private Endpoint endpoint(String name) {
		return this.registry.pool("llama")
			.stream()
			.filter((e) -> e.key().equals("default/" + name))
			.findFirst()
			.orElseThrow();
	}

	private void scrape(Endpoint endpoint, double waiting, double running, double cache, long agoNanos) {
		endpoint.scraped(new EndpointMetrics(waiting, running, cache, this.clock.nanos() - agoNanos, 0));
	}

	@Test
	void queueAwarePicksTheEndpointWithTheShortestEngineQueue() {
		QueueAwarePolicy policy = new QueueAwarePolicy(Duration.ofSeconds(5));
		scrape(this.a, 3, 8, 0.50, SECOND);
		scrape(this.b, 0, 8, 0.60, SECOND);
		scrape(this.c, 1, 8, 0.80, SECOND);
		// a has the fewest leases here, but its engine has 3 waiting; c has one waiting
		// and a fuller cache.
		ScriptedCandidates candidates = new ScriptedCandidates(this.clock.nanos()).add(this.a, 0, 8)
			.add(this.b, 1, 8)
			.add(this.c, 1, 8);
		assertThat(policy.choose(0, candidates)).isEqualTo(1);
	}

	@Test
	void queueAwareAvoidsANearlyFullKvCache() {
		QueueAwarePolicy policy = new QueueAwarePolicy(Duration.ofSeconds(5));
		scrape(this.a, 0, 4, 0.97, SECOND);
		scrape(this.b, 0, 5, 0.30, SECOND);
		ScriptedCandidates candidates = new ScriptedCandidates(this.clock.nanos()).add(this.a, 0, 8).add(this.b, 0, 8);
		assertThat(policy.choose(0, candidates)).isEqualTo(1);
	}

	@Test
	void queueAwareCountsRequestsSentSinceTheScrape() {
		QueueAwarePolicy policy = new QueueAwarePolicy(Duration.ofSeconds(5));
		scrape(this.a, 0, 0, 0.0, SECOND);
		this.b.scraped(new EndpointMetrics(0, 2, 0.0, this.clock.nanos() - SECOND, 2));
		// a looked idle at the scrape, but this replica has sent it 4 requests since; b
		// has had nothing new.
		ScriptedCandidates candidates = new ScriptedCandidates(this.clock.nanos()).add(this.b, 2, 8).add(this.a, 4, 8);
		assertThat(policy.choose(0, candidates)).isEqualTo(0);
	}

	@Test
	void queueAwareFallsBackToLeastOutstandingWhenAScrapeIsStale() {
		QueueAwarePolicy policy = new QueueAwarePolicy(Duration.ofSeconds(5));
		scrape(this.a, 5, 8, 0.9, SECOND);
		scrape(this.b, 0, 0, 0.0, 6 * SECOND);
		ScriptedCandidates candidates = new ScriptedCandidates(this.clock.nanos()).add(this.a, 0, 8).add(this.b, 3, 8);
		assertThat(policy.choose(0, candidates)).as("index 0 is the least-outstanding endpoint").isZero();
	}

	@Test
	void queueAwareFallsBackToLeastOutstandingWhenAScrapeFailedOrNeverRan() {
		QueueAwarePolicy policy = new QueueAwarePolicy(Duration.ofSeconds(5));
		scrape(this.a, 5, 8, 0.9, SECOND);
		scrape(this.b, 0, 0, 0.0, SECOND);
		this.b.scrapeFailed("HttpConnectTimeoutException");
		ScriptedCandidates candidates = new ScriptedCandidates(this.clock.nanos()).add(this.a, 0, 8).add(this.b, 3, 8);
		assertThat(policy.choose(0, candidates)).isZero();
		ScriptedCandidates withUnscraped = new ScriptedCandidates(this.clock.nanos()).add(this.a, 0, 8)
			.add(this.c, 3, 8);
		assertThat(policy.choose(0, withUnscraped)).isZero();
	}

	@Test
	void prefixAffinityKeepsARepeatedPrefixOnOneEndpointUntilItsLoadBoundThenSpillsToTheNextOnTheRing() {
		PrefixAffinityPolicy policy = new PrefixAffinityPolicy(() -> this.registry.pool("llama"), 1.25, 100);
		long key = AffinityKeys.of("system: you are a helpful assistant for ACME's billing team", 512);
		List<String> ring = policy.order(key);
		Endpoint home = endpoint(ring.get(0).substring("default/".length()));
		Endpoint next = endpoint(ring.get(1).substring("default/".length()));
		// Every endpoint already runs two requests of other traffic.
		ScriptedCandidates candidates = new ScriptedCandidates(this.clock.nanos()).add(this.a, 2, 8)
			.add(this.b, 2, 8)
			.add(this.c, 2, 8);
		// Each choice runs one more request where it was sent.
		List<Endpoint> chosen = new java.util.ArrayList<>();
		for (int i = 0; i < 3; i++) {
			Endpoint pick = candidates.endpoint(policy.choose(key, candidates));
			chosen.add(pick);
			candidates.inFlight(pick, candidates.inFlightOf(pick) + 1);
		}
		// bound = ceil(1.25 x (leases + 1) / 3) = 3, 4, 4: home takes the prefix while
		// under it (2, then 3), and at
		// 4 the prefix spills to the next endpoint on the ring, not to a random one.
		assertThat(chosen).containsExactly(home, home, next);
		// When the home endpoint's load falls back, the prefix returns home.
		candidates.inFlight(home, 0);
		candidates.inFlight(next, 0);
		assertThat(candidates.endpoint(policy.choose(key, candidates))).isSameAs(home);
	}

	@Test
	void prefixAffinityStaysHomeUnderAnEvenLoad() {
		PrefixAffinityPolicy policy = new PrefixAffinityPolicy(() -> this.registry.pool("llama"), 1.25, 100);
		long key = AffinityKeys.of("session-42", 512);
		Endpoint home = endpoint(policy.order(key).get(0).substring("default/".length()));
		ScriptedCandidates candidates = new ScriptedCandidates(this.clock.nanos()).add(this.a, 4, 8)
			.add(this.b, 4, 8)
			.add(this.c, 4, 8);
		// bound = ceil(1.25 x 13 / 3) = 6 > 4: home still has room under the bound.
		assertThat(candidates.endpoint(policy.choose(key, candidates))).isSameAs(home);
		// bound = ceil(1.25 x 16 / 3) = 7: home is at it.
		candidates.inFlight(home, 7);
		assertThat(candidates.endpoint(policy.choose(key, candidates))).isNotSameAs(home);
	}

	@Test
	void prefixAffinitySpreadsDifferentPrefixesAndSendsKeylessRequestsToTheLeastLoaded() {
		PrefixAffinityPolicy policy = new PrefixAffinityPolicy(() -> this.registry.pool("llama"), 1.25, 100);
		ScriptedCandidates candidates = new ScriptedCandidates(this.clock.nanos()).add(this.a, 0, 8)
			.add(this.b, 0, 8)
			.add(this.c, 0, 8);
		Set<Integer> homes = new HashSet<>();
		for (int i = 0; i < 60; i++) {
			homes.add(policy.choose(AffinityKeys.of("tenant prompt " + i, 512), candidates));
		}
		assertThat(homes).containsExactlyInAnyOrder(0, 1, 2);
		assertThat(policy.choose(0, candidates)).isZero();
	}

	@Test
	void prefixAffinityRebuildsItsRingWhenThePoolChanges() {
		PrefixAffinityPolicy policy = new PrefixAffinityPolicy(() -> this.registry.pool("llama"), 1.25, 100);
		assertThat(policy.order(7)).hasSize(3);
		this.cluster.upsert(InMemoryClusterView.pod("d", "llama", 8));
		assertThat(policy.order(7)).hasSize(4).contains("default/d");
	}

	@Test
	void eachModelGetsItsConfiguredPolicyAndLeastOutstandingIsTheSchedulersOwnDefault() {
		RoutingProperties properties = new RoutingProperties(8, Map.of(), 256,
				RoutingProperties.Policy.LEAST_OUTSTANDING,
				Map.of("llama", RoutingProperties.Policy.PREFIX_AFFINITY, "qwen", RoutingProperties.Policy.QUEUE_AWARE),
				RoutingProperties.Scrape.DEFAULTS, RoutingProperties.Affinity.DEFAULTS,
				RoutingProperties.Health.DEFAULTS);
		BalancingPolicies policies = new BalancingPolicies(this.registry, properties);
		assertThat(policies.create("llama")).isInstanceOf(PrefixAffinityPolicy.class);
		assertThat(policies.create("qwen")).isInstanceOf(QueueAwarePolicy.class);
		assertThat(policies.create("other")).isNull();
		assertThat(policies.usesAffinity("llama")).isTrue();
		assertThat(policies.affinityKey("conversation-1", "whatever"))
			.isEqualTo(policies.affinityKey("conversation-1", "else"));
		assertThat(policies.affinityKey(null, "")).isZero();
	}

	@Test
	void affinityKeysDependOnlyOnTheFirstCharacters() {
		assertThat(AffinityKeys.of("abcdef-1", 6)).isEqualTo(AffinityKeys.of("abcdef-2", 6));
		assertThat(AffinityKeys.of("abcdef-1", 8)).isNotEqualTo(AffinityKeys.of("abcdef-2", 8));
		assertThat(AffinityKeys.of("", 8)).isZero();
	}

}
