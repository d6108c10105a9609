package dev.tiergate.problem;

/**
 * A request parameter or body field breaks a rule that no feature-specific exception
 * covers: 400, naming the field.
 */
public class InvalidRequestException extends TiergateException {

	public InvalidRequestException(String field, String message) {
		super(400, "invalid_request", field + ": " + message, field, null, java.util.Map.of());
	}

}
