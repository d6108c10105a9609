package dev.tiergate.web;

import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;

import dev.tiergate.problem.OpenAiApi;
import dev.tiergate.problem.OpenAiErrorBody;
import jakarta.servlet.http.HttpServletRequest;

/**
 * Answers every failure of an {@link OpenAiApi} controller ({@code /v1/**}) as OpenAI's
 * error JSON, so that OpenAI clients understand it. Never a stack trace. The completions,
 * which are served outside MVC, answer theirs with the same body
 * ({@link CompletionsServlet}).
 */
@RestControllerAdvice(annotations = OpenAiApi.class)
@Order(Ordered.HIGHEST_PRECEDENCE)
class OpenAiErrorsAdvice {

	@ExceptionHandler(Exception.class)
	ResponseEntity<Object> failed(Exception ex, HttpServletRequest request) {
		return render(Failure.of(ex, request.getRequestURI()));
	}

	/**
	 * OpenAI's error JSON for a failure.
	 * @param failure what to answer
	 * @return the answer
	 */
	static ResponseEntity<Object> render(Failure failure) {
		return ResponseEntity.status(failure.status())
			.headers(failure.headers())
			.contentType(MediaType.APPLICATION_JSON)
			.body(body(failure));
	}

	/**
	 * OpenAI's error JSON for a failure, without status and headers.
	 * @param failure what to answer
	 * @return the body, ready to serialize
	 */
	static Object body(Failure failure) {
		// OpenAI names the parameter of a bad request only; a 404's field is what was
		// looked up, not a parameter at fault.
		String param = (failure.status() == 400) ? failure.field() : null;
		return OpenAiErrorBody.of(failure.message(), failure.openAiType(), param, failure.code());
	}

}
