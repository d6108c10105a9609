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
	 * The completion tokens a request may generate.
	 * @param body the request
	 * @param fallback when it names no limit
	 * @return {@code max_completion_tokens}, else {@code max_tokens}, else the fallback
	 */
	public static long maxTokens(JsonNode body, int fallback) {
		for (String field : new String[] { "max_completion_tokens", "max_tokens" }) {
			JsonNode value = body.get(field);
			if (value != null && value.canConvertToLong() && value.asLong() > 0) {
				return value.asLong();
			}
		}
		return fallback;
	}

}
