package dev.tiergate.problem;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * OpenAI's error JSON, {@code {"error":{"message","type","param","code"}}}, the one shape
 * every {@code /v1/**} failure takes, whoever writes it (a controller advice or a
 * security filter).
 */
public final class OpenAiErrorBody {

	private OpenAiErrorBody() {
	}

	/**
	 * The body of one error.
	 * @param message what is wrong
	 * @param type OpenAI's error type, e.g. {@code invalid_request_error}
	 * @param param the parameter at fault, or {@code null}
	 * @param code machine-readable code
	 * @return the body, ready to serialize
	 */
	public static Map<String, Object> of(String message, String type, String param, String code) {
		Map<String, Object> error = new LinkedHashMap<>();
		error.put("message", message);
		error.put("type", type);
		error.put("param", param);
		error.put("code", code);
		return Map.of("error", error);
	}

}
