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
		super(status, code, message, null, retryAfter, Map.of());
		this.type = type;
	}

	static OpenAiException invalidRequest(String code, String message) {
		return new OpenAiException(400, "invalid_request_error", code, message);
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
