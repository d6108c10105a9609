package dev.tiergate.web;

import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.boot.web.error.ErrorAttributeOptions;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.web.context.request.ServletWebRequest;

import jakarta.servlet.RequestDispatcher;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link OpenAiErrorAttributes}: the container's error page says what is wrong
 * in OpenAI's shape on {@code /v1/**}, and keeps Spring Boot's attributes elsewhere.
 */
class OpenAiErrorAttributesTests {

	private final OpenAiErrorAttributes attributes = new OpenAiErrorAttributes();

	private Map<String, Object> errorOf(String path, int status) {
		MockHttpServletRequest request = new MockHttpServletRequest("GET", "/error");
		request.setAttribute(RequestDispatcher.ERROR_REQUEST_URI, path);
		request.setAttribute(RequestDispatcher.ERROR_STATUS_CODE, status);
		return this.attributes.getErrorAttributes(new ServletWebRequest(request), ErrorAttributeOptions.defaults());
	}

	@Test
	void aContainerErrorOnTheOpenAiApiIsOpenAiShaped() {
		Map<String, Object> body = errorOf("/v1/chat/completions", 400);
		assertThat(body).containsOnlyKeys("error");
		@SuppressWarnings("unchecked")
		Map<String, Object> error = (Map<String, Object>) body.get("error");
		assertThat(error).containsEntry("type", "invalid_request_error").containsEntry("code", "invalid_request");
		assertThat((String) error.get("message")).contains("Content-Length");
		@SuppressWarnings("unchecked")
		Map<String, Object> failed = (Map<String, Object>) errorOf("/v1/models", 503).get("error");
		assertThat(failed).containsEntry("type", "server_error").containsEntry("message", "Service Unavailable.");
	}

	@Test
	void everyOtherPathKeepsSpringBootsAttributes() {
		Map<String, Object> body = errorOf("/api/v1/tenants", 400);
		assertThat(body).containsKeys("timestamp", "status", "error", "path").doesNotContainKey("message");
		assertThat(body).containsEntry("status", 400).containsEntry("path", "/api/v1/tenants");
	}

}
