package dev.tiergate.proxy;

import java.time.Duration;
import java.util.Map;

import dev.tiergate.problem.TiergateException;

/**
 * A failure of the OpenAI-compatible API with its own OpenAI error type, such as
 * {@code overloaded} or {@code server_error}.
 */
public class OpenAiException extends TiergateException {

	private final String type;

	public OpenAiException(int status, String type, String code, String message) {
		this(status, type, code, message, null);
	}

	public OpenAiException(int status, String type, String code, String message, Duration retryAfter) {
		this(status, type, code, message, null, retryAfter);
	}

	private OpenAiException(int status, String type, String code, String message, String param, Duration retryAfter) {
		super(status, code, message, param, retryAfter, Map.of());
		this.type = type;
	}

	static OpenAiException invalidRequest(String code, String message) {
		return new OpenAiException(400, "invalid_request_error", code, message);
	}

	/**
	 * A 400 {@code invalid_value} naming the request field at fault.
	 * @param param the field, e.g. {@code max_tokens}
	 * @param message what is wrong with it
	 * @return the exception
	 */
	static OpenAiException invalidValue(String param, String message) {
		return new OpenAiException(400, "invalid_request_error", "invalid_value", message, param, null);
	}

	/**
	 * OpenAI error type, such as {@code invalid_request_error}.
	 * @return the type
	 */
	public String type() {
		return this.type;
	}

	@Override
	public String openAiType() {
		return this.type;
	}

}
