package dev.tiergate.proxy;

import java.time.Duration;

/**
 * A failure answered to an OpenAI client as
 * {@code {"error":{"message","type","param","code"}}}.
 */
public class OpenAiException extends RuntimeException {

	private final int status;

	private final String type;

	private final String code;

	private final Duration retryAfter;

	public OpenAiException(int status, String type, String code, String message) {
		this(status, type, code, message, null);
	}

	public OpenAiException(int status, String type, String code, String message, Duration retryAfter) {
		super(message, null, false, false);
		this.status = status;
		this.type = type;
		this.code = code;
		this.retryAfter = retryAfter;
	}

	static OpenAiException invalidRequest(String code, String message) {
		return new OpenAiException(400, "invalid_request_error", code, message);
	}

	/**
	 * HTTP status.
	 * @return the status code
	 */
	public int status() {
		return this.status;
	}

	/**
	 * OpenAI error type, such as {@code invalid_request_error}.
	 * @return the type
	 */
	public String type() {
		return this.type;
	}

	/**
	 * Machine-readable code, such as {@code model_not_found}.
	 * @return the code
	 */
	public String code() {
		return this.code;
	}

	/**
	 * When retrying makes sense, or {@code null}.
	 * @return the delay
	 */
	public Duration retryAfter() {
		return this.retryAfter;
	}

}
