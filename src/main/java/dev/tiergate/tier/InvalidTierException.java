package dev.tiergate.tier;

/**
 * A tier change that would break a rule; it names the offending field, e.g.
 * {@code P0.reservedShare}.
 */
public class InvalidTierException extends RuntimeException {

	private final String field;

	public InvalidTierException(String field, String message) {
		super(field + ": " + message);
		this.field = field;
	}

	/**
	 * The field at fault.
	 * @return a path such as {@code P1.mayPreempt}
	 */
	public String field() {
		return this.field;
	}

}
