package dev.tiergate.quota;

import java.util.Map;

import dev.tiergate.problem.TiergateException;

/**
 * A tenant, its limits or a request about them breaks a rule: 400, naming the field at
 * fault, e.g. {@code limits.requestsPerMinute}.
 */
public class InvalidTenantException extends TiergateException {

	private final String reason;

	public InvalidTenantException(String field, String message) {
		super(400, "invalid_request", field + ": " + message, field, null, Map.of());
		this.reason = message;
	}

	/**
	 * What is wrong with the field, without its name.
	 * @return e.g. {@code must be between 1 and 100000, or absent for no limit (was -5)}
	 */
	public String reason() {
		return this.reason;
	}

}
