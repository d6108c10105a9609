package dev.tiergate.quota;

/**
 * A tenant, its limits or a request about them breaks a rule; names the field at fault, e.g.
 * {@code limits.requestsPerMinute}.
 */
public class InvalidTenantException extends IllegalArgumentException {

	private final String field;

	public InvalidTenantException(String field, String message) {
		super(field + ": " + message);
		this.field = field;
	}

	/**
	 * The field at fault.
	 * @return a JSON path such as {@code limits.maxConcurrent}
	 */
	public String field() {
		return this.field;
	}

}
