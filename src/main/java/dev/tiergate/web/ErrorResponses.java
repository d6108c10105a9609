package dev.tiergate.web;

import java.util.LinkedHashMap;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.dao.DataAccessException;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.ErrorResponse;
import org.springframework.web.bind.MethodArgumentNotValidException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.method.annotation.HandlerMethodValidationException;

import dev.tiergate.tier.InvalidTierException;
import dev.tiergate.proxy.OpenAiException;
import dev.tiergate.quota.InvalidTenantException;
import dev.tiergate.quota.QuotaException;
import dev.tiergate.quota.TenantConflictException;
import dev.tiergate.quota.TenantNotFoundException;
import jakarta.servlet.http.HttpServletRequest;
import tools.jackson.core.JacksonException;

/**
 * Turns every failure into the error format its caller speaks: OpenAI-shaped JSON on
 * {@code /v1/**}, RFC 9457 problem details elsewhere. Never a stack trace.
 */
@RestControllerAdvice
@Order(Ordered.LOWEST_PRECEDENCE)
class ErrorResponses {

	private static final Logger logger = LoggerFactory.getLogger(ErrorResponses.class);

	@ExceptionHandler(OpenAiException.class)
	ResponseEntity<Object> openAi(OpenAiException ex, HttpServletRequest request) {
		HttpHeaders headers = new HttpHeaders();
		if (ex.retryAfter() != null) {
			headers.set(HttpHeaders.RETRY_AFTER, Long.toString(Math.max(1, ex.retryAfter().toSeconds())));
		}
		return respond(request, HttpStatusCode.valueOf(ex.status()), ex.type(), ex.code(), ex.getMessage(),
				ProblemTypes.INVALID_REQUEST, headers);
	}

	@ExceptionHandler(InvalidTierException.class)
	ResponseEntity<Object> invalidTier(InvalidTierException ex, HttpServletRequest request) {
		ResponseEntity<Object> response = respond(request, HttpStatus.BAD_REQUEST, "invalid_request_error",
				"invalid_tier", ex.getMessage(), ProblemTypes.INVALID_REQUEST, new HttpHeaders());
		if (response.getBody() instanceof ProblemDetail problem) {
			problem.setProperty("field", ex.field());
		}
		return response;
	}

	// --- Quota and tenants (issue 6) ---

	@ExceptionHandler(QuotaException.class)
	ResponseEntity<Object> quota(QuotaException ex, HttpServletRequest request) {
		HttpHeaders headers = new HttpHeaders();
		ex.headers().forEach(headers::set);
		headers.set(HttpHeaders.RETRY_AFTER, Long
			.toString(Math.max(1, ex.retryAfter().toSeconds() + ((ex.retryAfter().toMillisPart() > 0) ? 1 : 0))));
		return respond(request, HttpStatusCode.valueOf(ex.status()), ex.type(), ex.code(), ex.getMessage(),
				(ex.status() == 429) ? ProblemTypes.QUOTA_EXCEEDED : ProblemTypes.UNAVAILABLE, headers);
	}

	@ExceptionHandler(InvalidTenantException.class)
	ResponseEntity<Object> invalidTenant(InvalidTenantException ex, HttpServletRequest request) {
		ResponseEntity<Object> response = respond(request, HttpStatus.BAD_REQUEST, "invalid_request_error",
				"invalid_request", ex.getMessage(), ProblemTypes.INVALID_REQUEST, new HttpHeaders());
		if (response.getBody() instanceof ProblemDetail problem) {
			problem.setProperty("field", ex.field());
		}
		return response;
	}

	@ExceptionHandler(TenantConflictException.class)
	ResponseEntity<Object> tenantConflict(TenantConflictException ex, HttpServletRequest request) {
		return respond(request, HttpStatus.CONFLICT, "invalid_request_error", "conflict", ex.getMessage(),
				ProblemTypes.CONFLICT, new HttpHeaders());
	}

	@ExceptionHandler(TenantNotFoundException.class)
	ResponseEntity<Object> tenantNotFound(TenantNotFoundException ex, HttpServletRequest request) {
		return respond(request, HttpStatus.NOT_FOUND, "invalid_request_error", "not_found", ex.getMessage(),
				ProblemTypes.NOT_FOUND, new HttpHeaders());
	}

	// --- end quota ---

	@ExceptionHandler(MethodArgumentNotValidException.class)
	ResponseEntity<Object> invalid(MethodArgumentNotValidException ex, HttpServletRequest request) {
		String detail = ex.getBindingResult()
			.getFieldErrors()
			.stream()
			.map((e) -> e.getField() + ": " + e.getDefaultMessage())
			.sorted()
			.reduce((a, b) -> a + "; " + b)
			.orElse("Invalid request");
		return respond(request, HttpStatus.BAD_REQUEST, "invalid_request_error", "invalid_request", detail,
				ProblemTypes.INVALID_REQUEST, new HttpHeaders());
	}

	@ExceptionHandler(HttpMessageNotReadableException.class)
	ResponseEntity<Object> unreadable(HttpMessageNotReadableException ex, HttpServletRequest request) {
		String field = fieldOf(ex);
		String message = (field != null) ? field + ": has the wrong type or an out-of-range value"
				: "The request body is not valid JSON of the expected shape.";
		ResponseEntity<Object> response = respond(request, HttpStatus.BAD_REQUEST, "invalid_request_error",
				"invalid_json", message, ProblemTypes.INVALID_REQUEST, new HttpHeaders());
		if (field != null && response.getBody() instanceof ProblemDetail problem) {
			problem.setProperty("field", field);
		}
		return response;
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

	@ExceptionHandler(HandlerMethodValidationException.class)
	ResponseEntity<Object> invalidParameter(HandlerMethodValidationException ex, HttpServletRequest request) {
		return respond(request, HttpStatus.BAD_REQUEST, "invalid_request_error", "invalid_request",
				"Invalid request parameters.", ProblemTypes.INVALID_REQUEST, new HttpHeaders());
	}

	private ResponseEntity<Object> framework(ErrorResponse error, HttpServletRequest request) {
		HttpStatusCode status = error.getStatusCode();
		String detail = (error.getBody().getDetail() != null) ? error.getBody().getDetail()
				: HttpStatus.valueOf(status.value()).getReasonPhrase();
		return respond(request, status, "invalid_request_error", codeFor(status), detail,
				(status.value() == 404) ? ProblemTypes.NOT_FOUND : ProblemTypes.INVALID_REQUEST, error.getHeaders());
	}

	@ExceptionHandler(DataAccessException.class)
	ResponseEntity<Object> storeUnavailable(DataAccessException ex, HttpServletRequest request) {
		logger.warn("Store unavailable while serving {}: {}", request.getRequestURI(),
				ex.getMostSpecificCause().toString());
		HttpHeaders headers = new HttpHeaders();
		headers.set(HttpHeaders.RETRY_AFTER, "1");
		return respond(request, HttpStatus.SERVICE_UNAVAILABLE, "service_unavailable", "store_unavailable",
				"A backing store is unavailable; try again shortly.", ProblemTypes.UNAVAILABLE, headers);
	}

	@ExceptionHandler(Exception.class)
	ResponseEntity<Object> unexpected(Exception ex, HttpServletRequest request) {
		if (ex instanceof ErrorResponse error && error.getStatusCode().is4xxClientError()) {
			return framework(error, request);
		}
		logger.error("Unexpected failure serving {}", request.getRequestURI(), ex);
		return respond(request, HttpStatus.INTERNAL_SERVER_ERROR, "server_error", "internal_error",
				"The server had an error while processing your request.", ProblemTypes.INTERNAL, new HttpHeaders());
	}

	private static String codeFor(HttpStatusCode status) {
		return switch (status.value()) {
			case 404 -> "not_found";
			case 405 -> "method_not_allowed";
			case 406 -> "not_acceptable";
			case 413 -> "request_too_large";
			case 415 -> "unsupported_media_type";
			default -> "invalid_request";
		};
	}

	private static ResponseEntity<Object> respond(HttpServletRequest request, HttpStatusCode status, String type,
			String code, String message, java.net.URI problemType, HttpHeaders headers) {
		if (request.getRequestURI().startsWith("/v1/")) {
			Map<String, Object> error = new LinkedHashMap<>();
			error.put("message", message);
			error.put("type", type);
			error.put("param", null);
			error.put("code", code);
			return ResponseEntity.status(status)
				.headers(headers)
				.contentType(MediaType.APPLICATION_JSON)
				.body(Map.of("error", error));
		}
		ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, message);
		problem.setType(problemType);
		return ResponseEntity.status(status)
			.headers(headers)
			.contentType(MediaType.APPLICATION_PROBLEM_JSON)
			.body(problem);
	}

}
