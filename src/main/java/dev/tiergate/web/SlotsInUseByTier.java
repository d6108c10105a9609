package dev.tiergate.web;

import java.util.Map;

import dev.tiergate.dispatch.Tier;
import dev.tiergate.routing.Endpoint;

/**
 * The seam for per-tier slot usage of an endpoint in the slice inventory. Until the dispatcher counts leases per
 * tier, {@link RegistrySlotsInUse} knows only the endpoint's total in flight and reports no tiers; a dispatcher-backed
 * bean of this type replaces it.
 */
public interface SlotsInUseByTier {

	/**
	 * The endpoint's slots in use, by the tier of the request holding them.
	 * @param endpoint the endpoint
	 * @return slots in use per tier; empty when not known
	 */
	Map<Tier, Integer> inUseByTier(Endpoint endpoint);

}
