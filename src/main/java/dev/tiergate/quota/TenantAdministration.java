package dev.tiergate.quota;

import java.util.List;

import dev.tiergate.audit.AuditLog;
import tools.jackson.databind.json.JsonMapper;

/**
 * Changes to tenants and their keys, as operators make them through
 * {@code /api/v1/tenants} or the dashboard: checked (by {@link TenantRequest},
 * {@link Tenant} and {@link Limits}), stored in the {@link TenantStore} and recorded in
 * the audit log as kind {@value #AUDIT_KIND}, so both ways in behave the same.
 * <p>
 * The audit log names a key by its id and prefix, never the key itself.
 */
class TenantAdministration {

	/** The audit log's kind for tenant and key changes. */
	static final String AUDIT_KIND = "tenant";

	private final TenantStore tenants;

	private final AuditLog audit;

	private final JsonMapper json;

	TenantAdministration(TenantStore tenants, AuditLog audit, JsonMapper json) {
		this.tenants = tenants;
		this.audit = audit;
		this.json = json;
	}

	/**
	 * Creates a tenant.
	 * @param request the tenant as sent
	 * @return the tenant, with defaults filled in
	 * @throws InvalidTenantException if a field is missing or breaks a rule
	 * @throws TenantConflictException if a tenant with the same id exists
	 */
	Tenant create(TenantRequest request) {
		if (request.id() == null || request.id().isBlank()) {
			throw new InvalidTenantException("id", "is required");
		}
		Tenant tenant = request.toTenant(null);
		this.tenants.create(tenant);
		this.audit.record(AUDIT_KIND, "create", tenant.id(), null, describe(tenant));
		return tenant;
	}

	/**
	 * Replaces a tenant's fields and limits (limits left out are removed).
	 * @param id the tenant
	 * @param request its new fields
	 * @return the tenant as stored
	 * @throws InvalidTenantException if a field breaks a rule
	 * @throws TenantNotFoundException if no tenant has the id
	 */
	Tenant update(String id, TenantRequest request) {
		Tenant tenant = request.toTenant(id);
		Tenant before = this.tenants.find(id).orElseThrow(() -> notFound(id));
		this.tenants.update(tenant);
		this.audit.record(AUDIT_KIND, "update", id, describe(before), describe(tenant));
		return tenant;
	}

	/**
	 * Deletes a tenant and its keys; its usage history stays.
	 * @param id the tenant
	 * @throws TenantNotFoundException if no tenant has the id
	 */
	void delete(String id) {
		Tenant before = this.tenants.find(id).orElseThrow(() -> notFound(id));
		if (!this.tenants.delete(id)) {
			throw notFound(id);
		}
		this.audit.record(AUDIT_KIND, "delete", id, describe(before), null);
	}

	/**
	 * Makes a new key for a tenant.
	 * @param id the tenant
	 * @return the key (to be shown once) and its listing
	 * @throws TenantNotFoundException if no tenant has the id
	 */
	TenantStore.IssuedKey issueKey(String id) {
		TenantStore.IssuedKey issued = this.tenants.issueKey(id);
		this.audit.record(AUDIT_KIND, "create-key", id + "/" + issued.info().id(), null,
				"prefix=" + issued.info().prefix());
		return issued;
	}

	/**
	 * A tenant's keys, oldest first.
	 * @param id the tenant
	 * @return prefix and creation time of each
	 * @throws TenantNotFoundException if no tenant has the id
	 */
	List<TenantStore.KeyInfo> keys(String id) {
		return this.tenants.keys(id);
	}

	/**
	 * Revokes a key; the next request that presents it is refused on every replica.
	 * @param id the tenant
	 * @param keyId the key's id
	 * @throws TenantNotFoundException if the tenant or the key does not exist
	 */
	void revokeKey(String id, String keyId) {
		String prefix = this.tenants.find(id)
			.map((tenant) -> this.tenants.keys(id))
			.orElse(List.of())
			.stream()
			.filter((key) -> key.id().equals(keyId))
			.map(TenantStore.KeyInfo::prefix)
			.findFirst()
			.orElse("?");
		this.tenants.revokeKey(id, keyId);
		this.audit.record(AUDIT_KIND, "revoke-key", id + "/" + keyId, "prefix=" + prefix, null);
	}

	private String describe(Tenant tenant) {
		return this.json.writeValueAsString(tenant);
	}

	private static TenantNotFoundException notFound(String id) {
		return new TenantNotFoundException("No tenant has id '" + id + "'.");
	}

}
