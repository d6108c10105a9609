package dev.tiergate.web;

import java.util.Map;

import org.springframework.stereotype.Component;

import dev.tiergate.dispatch.Tier;
import dev.tiergate.routing.Endpoint;

/**
 * The stand-in {@link SlotsInUseByTier} until the dispatcher counts leases per tier: the registry knows only each
 * endpoint's total in flight ({@link Endpoint#inFlight()}), so no tier breakdown is reported.
 */
@Component
class RegistrySlotsInUse implements SlotsInUseByTier {

	@Override
	public Map<Tier, Integer> inUseByTier(Endpoint endpoint) {
		return Map.of();
	}

}
