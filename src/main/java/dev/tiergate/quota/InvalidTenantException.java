package dev.tiergate.quota;

/**
 * A tenant, its limits or a request about them breaks a rule; names the field at fault,
 * e.g. {@code limits.requestsPerMinute}.
 */
public class InvalidTenantException extends IllegalArgumentException {

	private final String field;

	private final String reason;

	public InvalidTenantException(String field, String message) {
		super(field + ": " + message);
		this.field = field;
		this.reason = message;
	}

	/**
	 * What is wrong with the field, without its name.
	 * @return e.g. {@code must be between 1 and 100000, or absent for no limit (was -5)}
	 */
	public String reason() {
		return this.reason;
	}

	/**
	 * The field at fault.
	 * @return a JSON path such as {@code limits.maxConcurrent}
	 */
	public String field() {
		return this.field;
	}

}
