package dev.tiergate.quota;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

import dev.tiergate.tier.Tier;

/**
 * A customer of the inference service, identified by its API keys.
 *
 * @param id stable identifier ({@code [a-z0-9][a-z0-9-]{0,62}})
 * @param displayName name shown to operators
 * @param allowedTiers tiers its requests may use
 * @param defaultTier tier of a request that names none; one of {@code allowedTiers}
 * @param weight fair-share weight among the tenants of a tier
 * @param limits its quota limits, each optional
 * @param batchTier tier its batch items run at; one of {@code allowedTiers}; {@code null}
 * means P2 when allowed, else the least urgent allowed tier
 * @param batchSpill whether its batch items may spill to a hosted API (off by default);
 * even then, only where the batch tier's spill policy allows spilling
 */
public record Tenant(String id, String displayName, Set<Tier> allowedTiers, Tier defaultTier, int weight, Limits limits,
		Tier batchTier, boolean batchSpill) {

	/** Pattern of a valid tenant id: it becomes part of Redis keys and URLs. */
	public static final String ID_PATTERN = "[a-z0-9][a-z0-9-]{0,62}";

	/** Longest display name. */
	public static final int MAX_DISPLAY_NAME = 200;

	public Tenant {
		if (id == null || !id.matches(ID_PATTERN)) {
			throw new InvalidTenantException("id", "must match " + ID_PATTERN);
		}
		displayName = (displayName == null || displayName.isBlank()) ? id : displayName.strip();
		if (displayName.length() > MAX_DISPLAY_NAME) {
			throw new InvalidTenantException("displayName", "must be at most " + MAX_DISPLAY_NAME + " characters");
		}
		if (allowedTiers == null || allowedTiers.isEmpty()) {
			throw new InvalidTenantException("allowedTiers", "must name at least one tier");
		}
		allowedTiers = Collections.unmodifiableSet(EnumSet.copyOf(allowedTiers));
		if (defaultTier == null) {
			throw new InvalidTenantException("defaultTier", "is required");
		}
		if (!allowedTiers.contains(defaultTier)) {
			throw new InvalidTenantException("defaultTier", "must be one of allowedTiers");
		}
		if (weight < 1 || weight > 1000) {
			throw new InvalidTenantException("weight", "must be between 1 and 1000");
		}
		limits = Objects.requireNonNullElse(limits, Limits.NONE);
		if (batchTier == null) {
			batchTier = allowedTiers.contains(Tier.P2) ? Tier.P2
					: allowedTiers.stream().max(Enum::compareTo).orElseThrow();
		}
		else if (!allowedTiers.contains(batchTier)) {
			throw new InvalidTenantException("batchTier", "must be one of allowedTiers");
		}
	}

	/**
	 * A tenant whose batch items never spill.
	 * @param id stable identifier
	 * @param displayName name shown to operators
	 * @param allowedTiers tiers its requests may use
	 * @param defaultTier tier of a request that names none
	 * @param weight fair-share weight among the tenants of a tier
	 * @param limits its quota limits, each optional
	 * @param batchTier tier its batch items run at, or {@code null} for the default
	 */
	public Tenant(String id, String displayName, Set<Tier> allowedTiers, Tier defaultTier, int weight, Limits limits,
			Tier batchTier) {
		this(id, displayName, allowedTiers, defaultTier, weight, limits, batchTier, false);
	}

	/**
	 * A tenant whose batch items run at the default batch tier.
	 * @param id stable identifier
	 * @param displayName name shown to operators
	 * @param allowedTiers tiers its requests may use
	 * @param defaultTier tier of a request that names none
	 * @param weight fair-share weight among the tenants of a tier
	 * @param limits its quota limits, each optional
	 */
	public Tenant(String id, String displayName, Set<Tier> allowedTiers, Tier defaultTier, int weight, Limits limits) {
		this(id, displayName, allowedTiers, defaultTier, weight, limits, null);
	}

	/**
	 * A tenant without quota limits.
	 * @param id stable identifier
	 * @param displayName name shown to operators
	 * @param allowedTiers tiers its requests may use
	 * @param defaultTier tier of a request that names none
	 * @param weight fair-share weight among the tenants of a tier
	 */
	public Tenant(String id, String displayName, Set<Tier> allowedTiers, Tier defaultTier, int weight) {
		this(id, displayName, allowedTiers, defaultTier, weight, Limits.NONE, null);
	}

	/**
	 * Whether requests of this tenant may use a tier.
	 * @param tier the tier
	 * @return {@code true} when allowed
	 */
	public boolean allows(Tier tier) {
		return this.allowedTiers.contains(tier);
	}

	/**
	 * This tenant with other limits.
	 * @param limits the new limits
	 * @return a copy
	 */
	public Tenant withLimits(Limits limits) {
		return new Tenant(this.id, this.displayName, this.allowedTiers, this.defaultTier, this.weight, limits,
				this.batchTier, this.batchSpill);
	}

}
