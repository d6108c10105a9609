package dev.tiergate.web;

import java.time.Clock;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.springframework.stereotype.Component;

import dev.tiergate.dispatch.DispatchRuntime;
import dev.tiergate.tier.Tier;
import dev.tiergate.routing.BalancingPolicies;
import dev.tiergate.routing.Endpoint;
import dev.tiergate.routing.EndpointMetrics;
import dev.tiergate.routing.EndpointRegistry;
import dev.tiergate.routing.RoutingProperties;

/**
 * Endpoints as the REST API and the dashboard show them: the registry's view of each pod
 * joined with the dispatcher's leases per tier, the last scrape and passive health.
 */
@Component
class EndpointViews {

	/** What an endpoint is doing, for filters and colours. */
	enum State {

		/** Takes requests. */
		HEALTHY,

		/** Passive health ejected it; it is probed after its backoff. */
		EJECTED,

		/**
		 * Its pod is not Ready or is being deleted: running requests finish, no new one
		 * starts.
		 */
		DRAINING;

		String value() {
			return name().toLowerCase(Locale.ROOT);
		}

	}

	private final EndpointRegistry registry;

	private final DispatchRuntime dispatcher;

	private final BalancingPolicies policies;

	private final RoutingProperties properties;

	private final Clock clock;

	EndpointViews(EndpointRegistry registry, DispatchRuntime dispatcher, BalancingPolicies policies,
			RoutingProperties properties, Clock clock) {
		this.registry = registry;
		this.dispatcher = dispatcher;
		this.policies = policies;
		this.properties = properties;
		this.clock = clock;
	}

	boolean knowsModel(String model) {
		return !this.registry.pool(model).isEmpty() || this.dispatcher.knows(model);
	}

	List<View> all() {
		Map<String, Map<Tier, Integer>> inFlight = this.dispatcher.inFlightByEndpointAndTier();
		Instant now = this.clock.instant();
		long nowNanos = now.getEpochSecond() * 1_000_000_000L + now.getNano();
		long staleAfter = this.properties.scrape().staleAfter().toNanos();
		return this.registry.endpoints().stream().map((endpoint) -> {
			Map<Tier, Integer> byTier = new EnumMap<>(Tier.class);
			for (Tier tier : Tier.values()) {
				byTier.put(tier, inFlight.getOrDefault(endpoint.key(), Map.of()).getOrDefault(tier, 0));
			}
			State state = !endpoint.podRoutable() ? State.DRAINING
					: (endpoint.health() == Endpoint.Health.EJECTED) ? State.EJECTED : State.HEALTHY;
			EndpointMetrics metrics = endpoint.metrics();
			Scrape scrape = (metrics != null || endpoint.scrapeError() != null)
					? new Scrape(metrics, (metrics != null) ? metrics.ageNanos(nowNanos) / 1_000_000 : null,
							endpoint.freshMetrics(nowNanos, staleAfter) == null, endpoint.scrapeError())
					: null;
			return new View(endpoint, state, byTier, byTier.values().stream().mapToInt(Integer::intValue).sum(),
					this.policies.policyOf(endpoint.model()).name().toLowerCase(Locale.ROOT).replace('_', '-'), scrape,
					instant(endpoint.ejectedUntilNanos(), state == State.EJECTED),
					instant(endpoint.lastErrorAtNanos(), endpoint.lastError() != null));
		}).toList();
	}

	private static Instant instant(long epochNanos, boolean relevant) {
		if (!relevant || epochNanos == 0) {
			return null;
		}
		return Instant.ofEpochSecond(Math.floorDiv(epochNanos, 1_000_000_000L),
				Math.floorMod(epochNanos, 1_000_000_000L));
	}

	/** One endpoint. */
	record View(Endpoint endpoint, State state, Map<Tier, Integer> inFlightByTier, int inFlight, String policy,
			Scrape scrape, Instant ejectedUntil, Instant lastErrorAt) {

		/**
		 * The state as the page and the API show it (public so that templates can call
		 * it).
		 * @return e.g. {@code healthy}
		 */
		public String stateValue() {
			return this.state.value();
		}

		/**
		 * In-flight counts as {@code P0/P1/P2}.
		 * @return e.g. {@code 1/0/3}
		 */
		public String tiersText() {
			StringBuilder text = new StringBuilder();
			for (Tier tier : Tier.values()) {
				text.append((text.length() > 0) ? "/" : "").append(this.inFlightByTier.get(tier));
			}
			return text.toString();
		}

	}

	/** Its last scrape. */
	record Scrape(EndpointMetrics metrics, Long ageMs, boolean stale, String error) {
	}

}
