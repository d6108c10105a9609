package dev.tiergate.cluster;

/**
 * A requested cluster change breaks a rule; the caller must fix the named field.
 */
public class InvalidClusterChangeException extends RuntimeException {

	private final String field;

	public InvalidClusterChangeException(String field, String message) {
		super(message);
		this.field = field;
	}

	/**
	 * The field of the request that breaks the rule.
	 * @return e.g. {@code replicas}
	 */
	public String field() {
		return this.field;
	}

}
