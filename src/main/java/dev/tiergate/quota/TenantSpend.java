package dev.tiergate.quota;

import java.time.YearMonth;

/**
 * Money a tenant spends beyond its own GPUs, shown with its usage (the usage APIs and the
 * tenant's page): what its requests that spilled to hosted APIs cost in a month, against
 * its monthly cap. Implemented by {@code spill}; without an implementation nothing is
 * shown.
 */
public interface TenantSpend {

	/**
	 * A tenant's spend in a month.
	 * @param tenantId the tenant
	 * @param month the month (UTC)
	 * @return the spend and the cap in force
	 */
	Spend of(String tenantId, YearMonth month);

	/**
	 * What a tenant spent and may spend.
	 *
	 * @param dollars US dollars spent (and reserved by requests still running)
	 * @param cap the tenant's monthly cap in US dollars, or {@code null} when only the
	 * cap on all tenants together applies
	 * @param globalCap the monthly cap on all tenants together
	 */
	record Spend(double dollars, Double cap, double globalCap) {

	}

}
