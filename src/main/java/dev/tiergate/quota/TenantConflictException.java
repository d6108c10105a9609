package dev.tiergate.quota;

import dev.tiergate.problem.TiergateException;

/**
 * A tenant with the id asked for already exists: 409.
 */
public class TenantConflictException extends TiergateException {

	public TenantConflictException(String id) {
		super(409, "conflict", "A tenant with id '" + id + "' already exists.");
	}

}
