package dev.tiergate.web;

import java.util.LinkedHashMap;
import java.util.Map;

import org.springframework.boot.web.error.ErrorAttributeOptions;
import org.springframework.boot.webmvc.error.DefaultErrorAttributes;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;
import org.springframework.web.context.request.WebRequest;

import dev.tiergate.problem.OpenAiErrorBody;

/**
 * The error page's body for the OpenAI API: a failure on {@code /v1/**} that the servlet
 * container itself answers (it never reached a servlet that could, such as a body shorter
 * than its {@code Content-Length}: the container reports the read as aborted and renders
 * its error page) is OpenAI's error JSON too, with a message that says what is wrong,
 * instead of Spring Boot's {@code {"timestamp","status","error","path"}}. Every other
 * path keeps Spring Boot's attributes.
 */
@Component
class OpenAiErrorAttributes extends DefaultErrorAttributes {

	@Override
	public Map<String, Object> getErrorAttributes(WebRequest request, ErrorAttributeOptions options) {
		Map<String, Object> attributes = super.getErrorAttributes(request, options);
		if (!(attributes.get("path") instanceof String path) || !path.startsWith("/v1/")) {
			return attributes;
		}
		int status = (attributes.get("status") instanceof Integer code) ? code : 500;
		String message = switch (status) {
			case 400 -> "The request could not be read: its body ended before the Content-Length it declared, its "
					+ "request line or headers are malformed, or the trailing headers of its chunked body are malformed "
					+ "or larger than tiergate.server.max-request-trailer-size.";
			case 408 -> "The request's body did not arrive in time.";
			default -> {
				HttpStatus known = HttpStatus.resolve(status);
				yield (known != null) ? known.getReasonPhrase() + "." : "The request failed.";
			}
		};
		String type = (status >= 500) ? "server_error" : "invalid_request_error";
		String code = (status >= 500) ? "internal_error" : Failure.codeFor(status);
		return new LinkedHashMap<>(OpenAiErrorBody.of(message, type, null, code));
	}

}
