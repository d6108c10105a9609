package dev.tiergate.web;

import java.net.URI;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessException;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.security.access.AccessDeniedException;
import org.springframework.web.ErrorResponse;
import org.springframework.web.bind.MethodArgumentNotValidException;
import org.springframework.web.method.annotation.HandlerMethodValidationException;
import org.springframework.web.method.annotation.MethodArgumentTypeMismatchException;

import dev.tiergate.problem.ProblemTypes;
import dev.tiergate.problem.TiergateException;
import tools.jackson.core.JacksonException;

/**
 * What the answer to one failure says, whichever format carries it: the one place that
 * turns an exception (a feature's {@link TiergateException}, the framework's, or an
 * unexpected one) into status, code, message and headers. Unexpected failures are logged
 * here and answered without detail.
 *
 * @param status HTTP status
 * @param code machine-readable code, e.g. {@code invalid_tier}
 * @param openAiType OpenAI's error type, e.g. {@code invalid_request_error}
 * @param message what is wrong, for the caller
 * @param field the request field at fault, or {@code null}
 * @param problemType the problem details' type URI
 * @param headers headers the answer carries
 * @param properties extra problem members
 */
record Failure(int status, String code, String openAiType, String message, String field, URI problemType,
		HttpHeaders headers, Map<String, Object> properties) {

	private static final Logger logger = LoggerFactory.getLogger(Failure.class);

	/**
	 * The answer to a failure.
	 * @param ex what failed
	 * @param path the request's path, for the log
	 * @return what to answer
	 */
	static Failure of(Throwable ex, String path) {
		if (ex instanceof TiergateException feature) {
			return feature(feature, path);
		}
		if (ex instanceof MethodArgumentNotValidException invalid) {
			String detail = invalid.getBindingResult()
				.getFieldErrors()
				.stream()
				.map((e) -> e.getField() + ": " + e.getDefaultMessage())
				.sorted()
				.reduce((a, b) -> a + "; " + b)
				.orElse("Invalid request");
			return badRequest("invalid_request", detail, null);
		}
		if (ex instanceof HttpMessageNotReadableException unreadable) {
			String field = fieldOf(unreadable);
			return badRequest("invalid_json", (field != null) ? field + ": has the wrong type or an out-of-range value"
					: "The request body is not valid JSON of the expected shape.", field);
		}
		if (ex instanceof MethodArgumentTypeMismatchException mismatch) {
			// A query or path parameter that does not convert, e.g. ?limit=x: the
			// caller's fault, not the server's.
			String name = mismatch.getName();
			Class<?> type = mismatch.getRequiredType();
			String expected = (type == null) ? "a valid value"
					: (type == int.class || type == Integer.class || type == long.class || type == Long.class)
							? "a whole number within range" : "a valid " + type.getSimpleName();
			Object value = mismatch.getValue();
			String shown = (value == null) ? "" : value.toString();
			if (shown.length() > 40) {
				shown = shown.substring(0, 40) + "...";
			}
			return badRequest("invalid_value",
					"Parameter '" + name + "' must be " + expected + ", not '" + shown + "'.", name);
		}
		if (ex instanceof HandlerMethodValidationException) {
			return badRequest("invalid_request", "Invalid request parameters.", null);
		}
		if (ex instanceof AccessDeniedException) {
			return new Failure(403, "forbidden", "invalid_request_error", "Your role does not allow this operation.",
					null, ProblemTypes.FORBIDDEN, new HttpHeaders(), Map.of());
		}
		if (ex instanceof ErrorResponse error && error.getStatusCode().is4xxClientError()) {
			int status = error.getStatusCode().value();
			String detail = (error.getBody().getDetail() != null) ? error.getBody().getDetail()
					: HttpStatus.valueOf(status).getReasonPhrase();
			return new Failure(status, codeFor(status), "invalid_request_error", detail, null,
					ProblemTypes.forStatus(status), error.getHeaders(), Map.of());
		}
		if (ex instanceof DataAccessException store) {
			logger.warn("Store unavailable while serving {}: {}", path, store.getMostSpecificCause().toString());
			HttpHeaders headers = new HttpHeaders();
			headers.set(HttpHeaders.RETRY_AFTER, "1");
			return new Failure(503, "store_unavailable", "service_unavailable",
					"A backing store is unavailable; try again shortly.", null, ProblemTypes.UNAVAILABLE, headers,
					Map.of());
		}
		logger.error("Unexpected failure serving {}", path, ex);
		return new Failure(500, "internal_error", "server_error",
				"The server had an error while processing your request.", null, ProblemTypes.INTERNAL,
				new HttpHeaders(), Map.of());
	}

	private static Failure feature(TiergateException ex, String path) {
		if (ex.status() >= 500) {
			logger.warn("{} while serving {}: {}", ex.code(), path,
					(ex.getCause() != null) ? ex.getCause().toString() : ex.getMessage());
		}
		HttpHeaders headers = new HttpHeaders();
		ex.headers().forEach(headers::set);
		if (ex.retryAfter() != null) {
			long seconds = ex.retryAfter().toSeconds() + ((ex.retryAfter().toMillisPart() > 0) ? 1 : 0);
			headers.set(HttpHeaders.RETRY_AFTER, Long.toString(Math.max(1, seconds)));
		}
		return new Failure(ex.status(), ex.code(), ex.openAiType(), ex.getMessage(), ex.field(), ex.problemType(),
				headers, ex.properties());
	}

	private static Failure badRequest(String code, String message, String field) {
		return new Failure(400, code, "invalid_request_error", message, field, ProblemTypes.INVALID_REQUEST,
				new HttpHeaders(), Map.of());
	}

	/**
	 * The JSON path of the value Jackson could not bind, e.g.
	 * {@code limits.requestsPerMinute}, if known.
	 */
	private static String fieldOf(HttpMessageNotReadableException ex) {
		for (Throwable cause = ex.getCause(); cause != null; cause = cause.getCause()) {
			if (cause instanceof JacksonException jackson && !jackson.getPath().isEmpty()) {
				StringBuilder path = new StringBuilder();
				for (JacksonException.Reference reference : jackson.getPath()) {
					if (reference.getPropertyName() != null) {
						path.append(path.isEmpty() ? "" : ".").append(reference.getPropertyName());
					}
					else if (reference.getIndex() >= 0) {
						path.append('[').append(reference.getIndex()).append(']');
					}
				}
				return path.isEmpty() ? null : path.toString();
			}
		}
		return null;
	}

	static String codeFor(int status) {
		return switch (status) {
			case 404 -> "not_found";
			case 405 -> "method_not_allowed";
			case 406 -> "not_acceptable";
			case 413 -> "request_too_large";
			case 415 -> "unsupported_media_type";
			default -> "invalid_request";
		};
	}

}
