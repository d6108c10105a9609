package dev.tiergate.proxy;

import tools.jackson.databind.JsonNode;

/**
 * Cheap token estimates of a request before it runs, for fair sharing and quota
 * reservations (reconciled with the real {@code usage} afterwards). About four characters
 * per token, as OpenAI's own rule of thumb.
 */
final class TokenEstimates {

	private TokenEstimates() {
	}

	static long promptTokens(JsonNode body) {
		long chars = 0;
		JsonNode messages = body.get("messages");
		if (messages != null && messages.isArray()) {
			for (JsonNode message : messages) {
				chars += textLength(message.get("content"));
			}
		}
		chars += textLength(body.get("prompt"));
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

	static long maxTokens(JsonNode body, int fallback) {
		for (String field : new String[] { "max_completion_tokens", "max_tokens" }) {
			JsonNode value = body.get(field);
			if (value != null && value.canConvertToLong() && value.asLong() > 0) {
				return value.asLong();
			}
		}
		return fallback;
	}

}
