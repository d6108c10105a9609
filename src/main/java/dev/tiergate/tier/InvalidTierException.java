package dev.tiergate.tier;

import java.util.Map;

import dev.tiergate.problem.TiergateException;

/**
 * A tier change that would break a rule: 400 {@code invalid_tier}, naming the offending
 * field, e.g. {@code P0.reservedShare}.
 */
public class InvalidTierException extends TiergateException {

	public InvalidTierException(String field, String message) {
		super(400, "invalid_tier", field + ": " + message, field, null, Map.of());
	}

}
