package dev.tiergate.proxy;

import tools.jackson.databind.JsonNode;

/**
 * Cheap token estimates of a request before it runs, for fair sharing and quota
 * reservations (reconciled with the real {@code usage} afterwards). About four characters
 * per token, as OpenAI's own rule of thumb. Batch work estimates its items the same way.
 */
public final class TokenEstimates {

	private TokenEstimates() {
	}

	/**
	 * The prompt's tokens: chat messages' text, a completion's {@code prompt}, an
	 * embedding's {@code input}.
	 * @param body the request
	 * @return at least 1
	 */
	public static long promptTokens(JsonNode body) {
		long chars = 0;
		JsonNode messages = body.get("messages");
		if (messages != null && messages.isArray()) {
			for (JsonNode message : messages) {
				chars += textLength(message.get("content"));
			}
		}
		chars += textLength(body.get("prompt"));
		chars += textLength(body.get("input"));
		return Math.max(1, (chars + 3) / 4);
	}

	private static long textLength(JsonNode content) {
		if (content == null || content.isNull()) {
			return 0;
		}
		if (content.isString()) {
			return content.asString().length();
		}
		long total = 0;
		if (content.isArray()) {
			for (JsonNode part : content) {
				total += part.isString() ? part.asString().length() : textLength(part.get("text"));
			}
		}
		return total;
	}

	/**
	 * The completion tokens a request may generate, checked against the model's context
	 * length.
	 * @param body the request
	 * @param fallback the default when the request names no limit (capped at the context
	 * length)
	 * @param contextLength the model's context length ({@code max_model_len})
	 * @return {@code max_completion_tokens}, else {@code max_tokens}, else the default
	 * @throws OpenAiException 400 {@code invalid_value} naming the field when it is not a
	 * whole number from 1 to the context length
	 */
	public static long maxTokens(JsonNode body, int fallback, long contextLength) {
		Long chosen = null;
		for (String field : new String[] { "max_completion_tokens", "max_tokens" }) {
			JsonNode value = body.get(field);
			if (value == null || value.isNull()) {
				continue;
			}
			if (!value.isIntegralNumber() || !value.canConvertToLong() || value.asLong() < 1) {
				throw OpenAiException.invalidValue(field,
						"'" + field + "' must be a whole number from 1 to " + contextLength + ", was " + value + ".");
			}
			if (value.asLong() > contextLength) {
				throw OpenAiException.invalidValue(field, "'" + field + "' is " + value.asLong()
						+ ", more than the model's context length of " + contextLength + " tokens.");
			}
			if (chosen == null) {
				chosen = value.asLong();
			}
		}
		return (chosen != null) ? chosen : Math.min(fallback, contextLength);
	}

}
