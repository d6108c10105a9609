package dev.tiergate.quota;

import java.util.Objects;
import java.util.Set;

import dev.tiergate.dispatch.Tier;

/**
 * A customer of the inference service, identified by its API keys.
 *
 * @param id stable identifier ({@code [a-z0-9][a-z0-9-]{0,62}})
 * @param displayName name shown to operators
 * @param allowedTiers tiers its requests may use
 * @param defaultTier tier of a request that names none; one of {@code allowedTiers}
 * @param weight fair-share weight among the tenants of a tier
 */
public record Tenant(String id, String displayName, Set<Tier> allowedTiers, Tier defaultTier, int weight) {

	/** Pattern of a valid tenant id: it becomes part of Redis keys and URLs. */
	public static final String ID_PATTERN = "[a-z0-9][a-z0-9-]{0,62}";

	public Tenant {
		Objects.requireNonNull(id, "id");
		if (!id.matches(ID_PATTERN)) {
			throw new IllegalArgumentException("id must match " + ID_PATTERN);
		}
		displayName = (displayName == null || displayName.isBlank()) ? id : displayName;
		allowedTiers = Set.copyOf(allowedTiers);
		if (allowedTiers.isEmpty()) {
			throw new IllegalArgumentException("allowedTiers must name at least one tier");
		}
		Objects.requireNonNull(defaultTier, "defaultTier");
		if (!allowedTiers.contains(defaultTier)) {
			throw new IllegalArgumentException("defaultTier must be one of allowedTiers");
		}
		if (weight < 1 || weight > 1000) {
			throw new IllegalArgumentException("weight must be between 1 and 1000");
		}
	}

	/**
	 * Whether requests of this tenant may use a tier.
	 * @param tier the tier
	 * @return {@code true} when allowed
	 */
	public boolean allows(Tier tier) {
		return this.allowedTiers.contains(tier);
	}

}
