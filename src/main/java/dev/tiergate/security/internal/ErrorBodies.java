package dev.tiergate.security.internal;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

import dev.tiergate.problem.OpenAiErrorBody;
import dev.tiergate.problem.ProblemTypes;
import jakarta.servlet.http.HttpServletResponse;
import tools.jackson.databind.json.JsonMapper;

/**
 * Error bodies written by the security filters before any controller runs: OpenAI-shaped
 * for {@code /v1/**}, RFC 9457 problem details for everything else.
 */
final class ErrorBodies {

	private static final JsonMapper json = JsonMapper.builder().build();

	private ErrorBodies() {
	}

	static void openAi(HttpServletResponse response, int status, String type, String code, String message)
			throws IOException {
		write(response, status, "application/json", OpenAiErrorBody.of(message, type, null, code));
	}

	static void problem(HttpServletResponse response, int status, String title, String detail) throws IOException {
		Map<String, Object> problem = new LinkedHashMap<>();
		problem.put("type", ProblemTypes.forStatus(status).toString());
		problem.put("title", title);
		problem.put("status", status);
		problem.put("detail", detail);
		write(response, status, "application/problem+json", problem);
	}

	private static void write(HttpServletResponse response, int status, String contentType, Object body)
			throws IOException {
		if (response.isCommitted()) {
			return;
		}
		response.setStatus(status);
		response.setContentType(contentType);
		response.setCharacterEncoding("UTF-8");
		json.writeValue(response.getOutputStream(), body);
	}

}
