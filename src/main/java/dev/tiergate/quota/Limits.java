package dev.tiergate.quota;

/**
 * A tenant's quota limits. Every limit is optional: {@code null} means no limit.
 *
 * @param requestsPerMinute most requests admitted in any sliding minute (1 to 100,000)
 * @param tokensPerMinute most tokens (prompt + completion, reserved then reconciled) in
 * any sliding minute (1 to 1,000,000,000)
 * @param maxConcurrent most requests in flight at once (1 to 100,000)
 * @param monthlyTokenBudget most tokens per calendar month, UTC (1 to 1,000,000,000,000)
 * @param enqueuedTokens most tokens (prompt estimates + completion allowances) in the
 * tenant's unfinished batches, OpenAI's "enqueued tokens" (1 to 1,000,000,000,000)
 */
public record Limits(Long requestsPerMinute, Long tokensPerMinute, Long maxConcurrent, Long monthlyTokenBudget,
		Long enqueuedTokens) {

	/** No limits at all. */
	public static final Limits NONE = new Limits(null, null, null, null, null);

	/**
	 * Largest accepted {@code requestsPerMinute}: the sliding window keeps one entry per
	 * admitted request.
	 */
	public static final long MAX_REQUESTS_PER_MINUTE = 100_000;

	/** Largest accepted {@code tokensPerMinute}. */
	public static final long MAX_TOKENS_PER_MINUTE = 1_000_000_000L;

	/** Largest accepted {@code maxConcurrent}. */
	public static final long MAX_CONCURRENT = 100_000;

	/** Largest accepted {@code monthlyTokenBudget}. */
	public static final long MAX_MONTHLY_TOKEN_BUDGET = 1_000_000_000_000L;

	/** Largest accepted {@code enqueuedTokens}. */
	public static final long MAX_ENQUEUED_TOKENS = 1_000_000_000_000L;

	public Limits {
		check("limits.requestsPerMinute", requestsPerMinute, MAX_REQUESTS_PER_MINUTE);
		check("limits.tokensPerMinute", tokensPerMinute, MAX_TOKENS_PER_MINUTE);
		check("limits.maxConcurrent", maxConcurrent, MAX_CONCURRENT);
		check("limits.monthlyTokenBudget", monthlyTokenBudget, MAX_MONTHLY_TOKEN_BUDGET);
		check("limits.enqueuedTokens", enqueuedTokens, MAX_ENQUEUED_TOKENS);
	}

	/**
	 * Limits without an enqueued-tokens limit.
	 * @param requestsPerMinute see {@link #requestsPerMinute()}
	 * @param tokensPerMinute see {@link #tokensPerMinute()}
	 * @param maxConcurrent see {@link #maxConcurrent()}
	 * @param monthlyTokenBudget see {@link #monthlyTokenBudget()}
	 */
	public Limits(Long requestsPerMinute, Long tokensPerMinute, Long maxConcurrent, Long monthlyTokenBudget) {
		this(requestsPerMinute, tokensPerMinute, maxConcurrent, monthlyTokenBudget, null);
	}

	private static void check(String field, Long value, long max) {
		if (value != null && (value < 1 || value > max)) {
			throw new InvalidTenantException(field,
					"must be between 1 and " + max + ", or absent for no limit (was " + value + ")");
		}
	}

	/**
	 * Whether an online request's admission has a limit to check: requests or tokens per
	 * minute, concurrency or a monthly budget ({@code enqueuedTokens} is checked when a
	 * batch is created, not per request).
	 * @return {@code true} when one of them is set
	 */
	public boolean checkedOnAdmission() {
		return this.requestsPerMinute != null || this.tokensPerMinute != null || this.maxConcurrent != null
				|| this.monthlyTokenBudget != null;
	}

	/**
	 * Whether any limit is set.
	 * @return {@code true} when at least one limit applies
	 */
	public boolean any() {
		return this.requestsPerMinute != null || this.tokensPerMinute != null || this.maxConcurrent != null
				|| this.monthlyTokenBudget != null || this.enqueuedTokens != null;
	}

}
