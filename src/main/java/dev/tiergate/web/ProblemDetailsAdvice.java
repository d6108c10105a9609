package dev.tiergate.web;

import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;

import jakarta.servlet.http.HttpServletRequest;

/**
 * Answers failures as RFC 9457 problem details ({@code application/problem+json}), with
 * the field at fault and the feature's extra members. A failure on {@code /v1/**} that no
 * OpenAI controller handled (an unknown path, a wrong method) still gets OpenAI's shape,
 * from {@link OpenAiErrorsAdvice}. Never a stack trace.
 */
@RestControllerAdvice
@Order(Ordered.LOWEST_PRECEDENCE)
class ProblemDetailsAdvice {

	@ExceptionHandler(Exception.class)
	ResponseEntity<Object> failed(Exception ex, HttpServletRequest request) {
		Failure failure = Failure.of(ex, request.getRequestURI());
		if (request.getRequestURI().startsWith("/v1/")) {
			return OpenAiErrorsAdvice.render(failure);
		}
		ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatusCode.valueOf(failure.status()),
				failure.message());
		problem.setType(failure.problemType());
		if (failure.field() != null) {
			problem.setProperty("field", failure.field());
		}
		failure.properties().forEach(problem::setProperty);
		return ResponseEntity.status(failure.status())
			.headers(failure.headers())
			.contentType(MediaType.APPLICATION_PROBLEM_JSON)
			.body(problem);
	}

}
