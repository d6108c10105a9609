package dev.tiergate.problem;

import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The base shape of every feature's exceptions: an HTTP status, a machine-readable code,
 * the request field at fault (if any), and what the answer carries besides. The web
 * module renders it as RFC 9457 problem details on {@code /api/**} and as OpenAI's error
 * JSON on {@code /v1/**}; features never shape an error body themselves.
 */
public abstract class TiergateException extends RuntimeException {

	private final int status;

	private final String code;

	private final String field;

	private final Duration retryAfter;

	private final Map<String, String> headers;

	private final Map<String, Object> properties = new LinkedHashMap<>();

	/**
	 * A failure without a field, retry hint or headers.
	 * @param status the HTTP status
	 * @param code a machine-readable code, e.g. {@code not_found}
	 * @param message what is wrong, for the caller
	 */
	protected TiergateException(int status, String code, String message) {
		this(status, code, message, null, null, Map.of());
	}

	/**
	 * A failure with everything its answer says.
	 * @param status the HTTP status
	 * @param code a machine-readable code
	 * @param message what is wrong, for the caller
	 * @param field the request field at fault, or {@code null}
	 * @param retryAfter when trying again makes sense, or {@code null}
	 * @param headers headers the answer carries, e.g. {@code x-ratelimit-*}
	 */
	protected TiergateException(int status, String code, String message, String field, Duration retryAfter,
			Map<String, String> headers) {
		this(status, code, message, field, retryAfter, headers, null);
	}

	/**
	 * A failure caused by another, with everything its answer says.
	 * @param status the HTTP status
	 * @param code a machine-readable code
	 * @param message what is wrong, for the caller
	 * @param field the request field at fault, or {@code null}
	 * @param retryAfter when trying again makes sense, or {@code null}
	 * @param headers headers the answer carries
	 * @param cause what failed underneath (logged, never shown to the caller), or
	 * {@code null}
	 */
	protected TiergateException(int status, String code, String message, String field, Duration retryAfter,
			Map<String, String> headers, Throwable cause) {
		super(message, cause, false, false);
		this.status = status;
		this.code = code;
		this.field = field;
		this.retryAfter = retryAfter;
		this.headers = Map.copyOf(headers);
	}

	/**
	 * HTTP status.
	 * @return the status code
	 */
	public int status() {
		return this.status;
	}

	/**
	 * Machine-readable code, such as {@code model_not_found}.
	 * @return the code
	 */
	public String code() {
		return this.code;
	}

	/**
	 * The request field at fault.
	 * @return a path such as {@code P0.reservedShare}, or {@code null}
	 */
	public String field() {
		return this.field;
	}

	/**
	 * When retrying makes sense.
	 * @return the delay, or {@code null}
	 */
	public Duration retryAfter() {
		return this.retryAfter;
	}

	/**
	 * Headers the answer carries.
	 * @return header names and values, possibly empty
	 */
	public Map<String, String> headers() {
		return this.headers;
	}

	/**
	 * OpenAI's error {@code type} for this failure on {@code /v1/**}.
	 * @return by default {@code invalid_request_error} for 4xx, {@code server_error}
	 * otherwise
	 */
	public String openAiType() {
		return (this.status >= 400 && this.status < 500) ? "invalid_request_error"
				: (this.status == 503) ? "service_unavailable" : "server_error";
	}

	/**
	 * The problem type URI for this failure on {@code /api/**}.
	 * @return by default the type that matches the status
	 */
	public URI problemType() {
		return ProblemTypes.forStatus(this.status);
	}

	/**
	 * Extra members of the problem details, such as the objects a change conflicts with.
	 * @return names and values, possibly empty
	 */
	public Map<String, Object> properties() {
		return this.properties;
	}

	/**
	 * Adds a member to the problem details.
	 * @param name the member's name
	 * @param value its value
	 * @return this exception
	 */
	protected TiergateException withProperty(String name, Object value) {
		this.properties.put(name, value);
		return this;
	}

}
