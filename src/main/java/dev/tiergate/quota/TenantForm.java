package dev.tiergate.quota;

import java.util.List;

import dev.tiergate.tier.Tier;

/**
 * The dashboard's tenant form, as typed: numbers stay text so that what the operator
 * typed is shown again next to the message when it is refused. {@link #toRequest()} turns
 * it into the same {@link TenantRequest} the REST API takes; every rule is checked there
 * and in {@link Tenant} and {@link Limits}, not here.
 *
 * @param id the tenant id (read-only when editing)
 * @param displayName name shown to operators
 * @param allowedTiers the ticked tiers
 * @param defaultTier the chosen default tier, or blank for the most urgent allowed one
 * @param weight fair-share weight, or blank for 1
 * @param requestsPerMinute limit, or blank for none
 * @param tokensPerMinute limit, or blank for none
 * @param maxConcurrent limit, or blank for none
 * @param monthlyTokenBudget limit, or blank for none
 * @param enqueuedTokens limit of tokens in unfinished batches, or blank for none
 * @param batchTier tier of batch items, or blank for the default (P2 when allowed)
 * @param batchSpill whether the "batch items may spill" box is ticked
 */
record TenantForm(String id, String displayName, List<String> allowedTiers, String defaultTier, String weight,
		String requestsPerMinute, String tokensPerMinute, String maxConcurrent, String monthlyTokenBudget,
		String enqueuedTokens, String batchTier, Boolean batchSpill) {

	TenantForm {
		allowedTiers = (allowedTiers != null) ? List.copyOf(allowedTiers) : List.of();
	}

	/**
	 * The form for a new tenant: every tier allowed, weight 1, no limits.
	 * @return a blank form
	 */
	static TenantForm blank() {
		return new TenantForm("", "", List.of(Tier.P0.name(), Tier.P1.name(), Tier.P2.name()), "", "1", "", "", "", "",
				"", "", false);
	}

	/**
	 * The form filled with a tenant's current fields.
	 * @param tenant the tenant
	 * @return the form
	 */
	static TenantForm of(Tenant tenant) {
		Limits limits = tenant.limits();
		return new TenantForm(tenant.id(), tenant.displayName(),
				tenant.allowedTiers().stream().sorted().map(Tier::name).toList(), tenant.defaultTier().name(),
				Integer.toString(tenant.weight()), text(limits.requestsPerMinute()), text(limits.tokensPerMinute()),
				text(limits.maxConcurrent()), text(limits.monthlyTokenBudget()), text(limits.enqueuedTokens()),
				tenant.batchTier().name(), tenant.batchSpill());
	}

	/**
	 * Whether a tier's box is ticked (public so that templates can call it).
	 * @param tier the tier's name
	 * @return {@code true} when ticked
	 */
	public boolean allows(String tier) {
		return this.allowedTiers.contains(tier);
	}

	/**
	 * The request the REST API would receive for this form.
	 * @return the request
	 * @throws InvalidTenantException if a number field is not a whole number
	 */
	TenantRequest toRequest() {
		String weightText = blankToNull(this.weight);
		Integer weightValue = null;
		if (weightText != null) {
			Long parsed = number("weight", weightText);
			weightValue = (int) Math.clamp(parsed, Integer.MIN_VALUE, Integer.MAX_VALUE);
		}
		return new TenantRequest(blankToNull(this.id), blankToNull(this.displayName), this.allowedTiers,
				blankToNull(this.defaultTier), weightValue,
				new TenantRequest.LimitValues(number("limits.requestsPerMinute", this.requestsPerMinute),
						number("limits.tokensPerMinute", this.tokensPerMinute),
						number("limits.maxConcurrent", this.maxConcurrent),
						number("limits.monthlyTokenBudget", this.monthlyTokenBudget),
						number("limits.enqueuedTokens", this.enqueuedTokens)),
				blankToNull(this.batchTier), Boolean.TRUE.equals(this.batchSpill));
	}

	private static Long number(String field, String text) {
		String value = blankToNull(text);
		if (value == null) {
			return null;
		}
		try {
			return Long.valueOf(value);
		}
		catch (NumberFormatException ex) {
			throw new InvalidTenantException(field, "must be a whole number, or empty (was '" + value + "')");
		}
	}

	private static String blankToNull(String text) {
		return (text == null || text.isBlank()) ? null : text.strip();
	}

	private static String text(Long value) {
		return (value != null) ? Long.toString(value) : "";
	}

}
