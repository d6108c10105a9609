package dev.tiergate.quota;

import dev.tiergate.problem.TiergateException;

/**
 * No tenant (or no key of the tenant) has the id asked for: 404.
 */
public class TenantNotFoundException extends TiergateException {

	public TenantNotFoundException(String message) {
		super(404, "not_found", message);
	}

}
