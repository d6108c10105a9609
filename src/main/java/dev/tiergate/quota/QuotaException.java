package dev.tiergate.quota;

import java.time.Duration;
import java.util.Map;

/**
 * A request that quota enforcement refuses, with what its OpenAI-shaped error and headers
 * must say.
 */
public abstract sealed class QuotaException extends RuntimeException
		permits QuotaException.Exceeded, QuotaException.Unavailable {

	private final int status;

	private final String type;

	private final String code;

	private final Duration retryAfter;

	private final Map<String, String> headers;

	QuotaException(int status, String type, String code, String message, Duration retryAfter,
			Map<String, String> headers) {
		super(message, null, false, false);
		this.status = status;
		this.type = type;
		this.code = code;
		this.retryAfter = retryAfter;
		this.headers = Map.copyOf(headers);
	}

	/**
	 * HTTP status.
	 * @return 429 or 503
	 */
	public int status() {
		return this.status;
	}

	/**
	 * OpenAI error type.
	 * @return e.g. {@code requests}, {@code tokens}, {@code insufficient_quota}
	 */
	public String type() {
		return this.type;
	}

	/**
	 * Machine-readable code.
	 * @return e.g. {@code rate_limit_exceeded}, {@code quota_unavailable}
	 */
	public String code() {
		return this.code;
	}

	/**
	 * When trying again makes sense.
	 * @return the delay
	 */
	public Duration retryAfter() {
		return this.retryAfter;
	}

	/**
	 * Headers the answer carries, such as {@code x-ratelimit-remaining-requests}.
	 * @return header names and values
	 */
	public Map<String, String> headers() {
		return this.headers;
	}

	/**
	 * A limit would be exceeded: 429.
	 */
	public static final class Exceeded extends QuotaException {

		private final String limit;

		Exceeded(String limit, String message, Duration retryAfter, Map<String, String> headers) {
			super(429, typeOf(limit),
					limit.equals("monthly_token_budget") ? "insufficient_quota" : "rate_limit_exceeded", message,
					retryAfter, headers);
			this.limit = limit;
		}

		private static String typeOf(String limit) {
			return switch (limit) {
				case "requests_per_minute" -> "requests";
				case "tokens_per_minute" -> "tokens";
				case "max_concurrent" -> "concurrency";
				default -> "insufficient_quota";
			};
		}

		/**
		 * The limit that refused the request.
		 * @return {@code requests_per_minute}, {@code tokens_per_minute},
		 * {@code max_concurrent} or {@code monthly_token_budget}
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
