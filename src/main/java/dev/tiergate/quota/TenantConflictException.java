package dev.tiergate.quota;

/**
 * A tenant with the id asked for already exists.
 */
public class TenantConflictException extends RuntimeException {

	public TenantConflictException(String id) {
		super("A tenant with id '" + id + "' already exists.", null, false, false);
	}

}
