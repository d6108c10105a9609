package dev.tiergate.quota;

import java.time.Duration;
import java.util.Map;

import dev.tiergate.problem.TiergateException;

/**
 * A request that quota enforcement refuses, with what its OpenAI-shaped error and headers
 * must say.
 */
public abstract sealed class QuotaException extends TiergateException
		permits QuotaException.Exceeded, QuotaException.Unavailable {

	private final String type;

	QuotaException(int status, String type, String code, String message, Duration retryAfter,
			Map<String, String> headers) {
		super(status, code, message, null, retryAfter, headers);
		this.type = type;
	}

	/**
	 * OpenAI error type.
	 * @return e.g. {@code requests}, {@code tokens}, {@code insufficient_quota}
	 */
	public String type() {
		return this.type;
	}

	@Override
	public String openAiType() {
		return this.type;
	}

	/**
	 * A limit would be exceeded: 429.
	 */
	public static final class Exceeded extends QuotaException {

		private final String limit;

		Exceeded(String limit, String message, Duration retryAfter, Map<String, String> headers) {
			super(429, typeOf(limit), codeOf(limit), message, retryAfter, headers);
			this.limit = limit;
		}

		private static String codeOf(String limit) {
			return switch (limit) {
				case "monthly_token_budget" -> "insufficient_quota";
				case "enqueued_tokens" -> "token_limit_exceeded";
				default -> "rate_limit_exceeded";
			};
		}

		private static String typeOf(String limit) {
			return switch (limit) {
				case "requests_per_minute" -> "requests";
				case "tokens_per_minute", "enqueued_tokens" -> "tokens";
				case "max_concurrent" -> "concurrency";
				default -> "insufficient_quota";
			};
		}

		/**
		 * The limit that refused the request.
		 * @return {@code requests_per_minute}, {@code tokens_per_minute},
		 * {@code max_concurrent}, {@code monthly_token_budget} or {@code enqueued_tokens}
		 */
		public String limit() {
			return this.limit;
		}

	}

	/**
	 * Quotas cannot be checked (Redis unavailable) and the tier fails closed: 503.
	 */
	public static final class Unavailable extends QuotaException {

		Unavailable(Duration retryAfter) {
			super(503, "service_unavailable", "quota_unavailable",
					"Quota checks are unavailable for this tier right now; try again shortly.", retryAfter, Map.of());
		}

	}

}
