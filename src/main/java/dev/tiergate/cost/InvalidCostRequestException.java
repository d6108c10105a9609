package dev.tiergate.cost;

import dev.tiergate.problem.InvalidRequestException;

/**
 * A simulation or price-sheet request that breaks a rule: 400, naming the field.
 */
public class InvalidCostRequestException extends InvalidRequestException {

	/**
	 * The failure.
	 * @param field the field at fault, e.g. {@code fleet.gpus}
	 * @param message what is wrong
	 */
	public InvalidCostRequestException(String field, String message) {
		super(field, message);
	}

}
