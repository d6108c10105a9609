package dev.tiergate.quota;

import java.util.Map;

import dev.tiergate.problem.TiergateException;

/**
 * A token reservation that cannot be right (negative, or too large to count): the
 * caller's bad input, answered 400 {@code invalid_value} and never tried on Redis, so it
 * never counts as a failure of the quota store.
 */
public class InvalidReservationException extends TiergateException {

	InvalidReservationException(String field, String message) {
		super(400, "invalid_value", message, field, null, Map.of());
	}

}
