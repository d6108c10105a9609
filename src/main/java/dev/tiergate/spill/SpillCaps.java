package dev.tiergate.spill;

import java.util.Map;
import java.util.TreeMap;

/**
 * The monthly spend caps in force, US dollars (start-up values from
 * {@code tiergate.spill.*}; changed through {@code PUT /api/v1/spill/caps}, audited).
 *
 * @param monthlyCap all tenants together; 0 spills nothing
 * @param tenantMonthlyCap one tenant, unless {@code tenantCaps} names it; {@code null}:
 * only the global cap applies
 * @param tenantCaps per tenant id
 */
public record SpillCaps(double monthlyCap, Double tenantMonthlyCap, Map<String, Double> tenantCaps) {

	/**
	 * Validates the caps.
	 * @throws IllegalArgumentException naming the field that is wrong
	 */
	public SpillCaps {
		require("monthlyCap", monthlyCap);
		if (tenantMonthlyCap != null) {
			require("tenantMonthlyCap", tenantMonthlyCap);
		}
		tenantCaps = (tenantCaps != null) ? new TreeMap<>(tenantCaps) : new TreeMap<>();
		tenantCaps.forEach((tenant, cap) -> require("tenantCaps." + tenant, cap));
		tenantCaps = java.util.Collections.unmodifiableMap(tenantCaps);
	}

	/**
	 * The start-up caps.
	 * @param properties the settings
	 * @return the caps
	 */
	static SpillCaps of(SpillProperties properties) {
		return new SpillCaps(properties.monthlyCap(), properties.tenantMonthlyCap(), properties.tenantCaps());
	}

	/**
	 * A tenant's cap.
	 * @param tenant the tenant id
	 * @return US dollars, or {@code -1} when only the global cap applies
	 */
	public double tenantCap(String tenant) {
		Double cap = this.tenantCaps.get(tenant);
		if (cap == null) {
			cap = this.tenantMonthlyCap;
		}
		return (cap != null) ? cap : -1;
	}

	private static void require(String field, Double value) {
		if (value == null || !(value >= 0) || value > 1_000_000_000) {
			throw new IllegalArgumentException(field + " must be a number of US dollars between 0 and 1e9");
		}
	}

}
