package dev.tiergate.cost;

/**
 * The trace formats {@link TraceReader} reads.
 */
public enum TraceFormat {

	/**
	 * The Azure LLM inference trace (Azure Public Dataset, 2023): CSV with the header
	 * {@code TIMESTAMP,ContextTokens,GeneratedTokens}, timestamps like
	 * {@code 2023-11-16 18:15:46.6805900} (UTC).
	 */
	AZURE_CSV,

	/**
	 * Mooncake's trace: JSON lines with {@code timestamp} (milliseconds from the trace's
	 * start), {@code input_length}, {@code output_length} and optional {@code hash_ids}.
	 */
	MOONCAKE_JSONL,

	/**
	 * Tiergate's own request log: JSON lines with {@code time} (ISO-8601 instant),
	 * {@code tenant}, {@code tier} ({@code P0}..{@code P2}), {@code model},
	 * {@code promptTokens}, {@code completionTokens}, and as measured {@code queueMs},
	 * {@code ttftMs}, {@code durationMs} (optional, not needed to replay).
	 */
	TIERGATE_JSONL,

	/**
	 * Tiergate's own request log as CSV: a header naming the columns ({@code time},
	 * {@code tenant}, {@code tier}, {@code model}, {@code promptTokens},
	 * {@code completionTokens}, and as measured {@code queueMs}, {@code ttftMs},
	 * {@code durationMs}), one request per line.
	 */
	TIERGATE_CSV

}
