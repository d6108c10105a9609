package dev.tiergate.proxy;

import dev.tiergate.quota.Tenant;
import dev.tiergate.tier.Tier;
import tools.jackson.databind.JsonNode;

/**
 * Decides a request's tier: the {@code X-Tiergate-Priority} header, else OpenAI's
 * {@code service_tier} field ({@code priority} is P0, {@code flex} is P2, {@code auto}
 * and {@code default} are the tenant's default), else the tenant's default tier.
 */
final class TierSelection {

	static final String HEADER = "X-Tiergate-Priority";

	private TierSelection() {
	}

	static Tier select(String header, JsonNode serviceTier, Tenant tenant) {
		Tier tier;
		if (header != null) {
			tier = Tier.parse(header)
				.orElseThrow(() -> OpenAiException.invalidRequest("invalid_priority",
						"Header " + HEADER + " must be P0, P1 or P2."));
		}
		else if (serviceTier != null && !serviceTier.isNull()) {
			if (!serviceTier.isString()) {
				throw OpenAiException.invalidRequest("invalid_service_tier", "'service_tier' must be a string.");
			}
			tier = switch (serviceTier.asString()) {
				case "priority" -> Tier.P0;
				case "flex" -> Tier.P2;
				case "auto", "default" -> tenant.defaultTier();
				default -> throw OpenAiException.invalidRequest("invalid_service_tier",
						"'service_tier' must be one of auto, default, flex, priority.");
			};
		}
		else {
			tier = tenant.defaultTier();
		}
		if (!tenant.allows(tier)) {
			throw new OpenAiException(403, "permission_error", "tier_not_allowed",
					"Tier " + tier + " is not allowed for this API key.");
		}
		return tier;
	}

}
