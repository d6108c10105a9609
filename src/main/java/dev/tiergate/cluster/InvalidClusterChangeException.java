package dev.tiergate.cluster;

import java.util.Map;

import dev.tiergate.problem.TiergateException;

/**
 * A requested cluster change breaks a rule: 400, and the caller must fix the named field.
 */
public class InvalidClusterChangeException extends TiergateException {

	private final String reason;

	public InvalidClusterChangeException(String field, String message) {
		super(400, "invalid_request", field + ": " + message, field, null, Map.of());
		this.reason = message;
	}

	/**
	 * What is wrong with the field, without its name.
	 * @return e.g. {@code must be between 2 and 48}
	 */
	public String reason() {
		return this.reason;
	}

}
