package dev.tiergate.quota;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

import dev.tiergate.tier.Tier;

/**
 * A tenant as clients of {@code /api/v1/tenants} send it. Tiers are text so that an
 * unknown one is reported by field; limits may be left out.
 *
 * @param id the tenant id (on create; on update it must match the path, or be absent)
 * @param displayName name shown to operators; defaults to the id
 * @param allowedTiers tiers its requests may use, e.g. {@code ["P1","P2"]}
 * @param defaultTier tier of a request that names none; defaults to the most urgent
 * allowed tier
 * @param weight fair-share weight within a tier, 1 to 1000; defaults to 1
 * @param limits quota limits, each optional
 * @param batchTier tier batch items run at; defaults to P2 when allowed, else the least
 * urgent allowed tier
 * @param batchSpill whether its batch items may spill to a hosted API where the batch
 * tier's spill policy allows it; defaults to {@code false}
 */
record TenantRequest(String id, String displayName, List<String> allowedTiers, String defaultTier, Integer weight,
		LimitValues limits, String batchTier, Boolean batchSpill) {

	/**
	 * Limits as sent, checked only when the tenant is built, so that a bad value is
	 * reported by field.
	 *
	 * @param requestsPerMinute see {@link Limits#requestsPerMinute()}
	 * @param tokensPerMinute see {@link Limits#tokensPerMinute()}
	 * @param maxConcurrent see {@link Limits#maxConcurrent()}
	 * @param monthlyTokenBudget see {@link Limits#monthlyTokenBudget()}
	 * @param enqueuedTokens see {@link Limits#enqueuedTokens()}
	 */
	record LimitValues(Long requestsPerMinute, Long tokensPerMinute, Long maxConcurrent, Long monthlyTokenBudget,
			Long enqueuedTokens) {
	}

	Tenant toTenant(String pathId) {
		String tenantId = (pathId != null) ? pathId : this.id;
		if (pathId != null && this.id != null && !this.id.equals(pathId)) {
			throw new InvalidTenantException("id", "must match the tenant id in the path, or be left out");
		}
		if (this.allowedTiers == null || this.allowedTiers.isEmpty()) {
			throw new InvalidTenantException("allowedTiers", "must name at least one tier (P0, P1, P2)");
		}
		Set<Tier> tiers = EnumSet.noneOf(Tier.class);
		for (String name : this.allowedTiers) {
			tiers.add(tier("allowedTiers", name));
		}
		Tier fallback = tiers.stream().sorted().findFirst().orElseThrow();
		Tier defaultTier = (this.defaultTier != null) ? tier("defaultTier", this.defaultTier) : fallback;
		Tier batch = (this.batchTier != null) ? tier("batchTier", this.batchTier) : null;
		return new Tenant(tenantId, this.displayName, tiers, defaultTier, (this.weight != null) ? this.weight : 1,
				(this.limits != null) ? new Limits(this.limits.requestsPerMinute(), this.limits.tokensPerMinute(),
						this.limits.maxConcurrent(), this.limits.monthlyTokenBudget(), this.limits.enqueuedTokens())
						: Limits.NONE,
				batch, Boolean.TRUE.equals(this.batchSpill));
	}

	private static Tier tier(String field, String name) {
		return Tier.parse(name)
			.orElseThrow(() -> new InvalidTenantException(field, "unknown tier '" + name + "' (P0, P1, P2)"));
	}

}
