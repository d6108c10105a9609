package dev.tiergate.quota;

/**
 * No tenant (or no key of the tenant) has the id asked for.
 */
public class TenantNotFoundException extends RuntimeException {

	public TenantNotFoundException(String message) {
		super(message, null, false, false);
	}

}
