package dev.tiergate.problem;

import java.util.Map;

/**
 * What a request names does not exist: 404, naming the parameter that named it when there
 * is one.
 */
public class NotFoundException extends TiergateException {

	public NotFoundException(String field, String message) {
		super(404, "not_found", message, field, null, Map.of());
	}

}
