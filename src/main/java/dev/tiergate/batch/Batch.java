package dev.tiergate.batch;

import java.util.List;
import java.util.Map;

import dev.tiergate.tier.Tier;

/**
 * One batch as it stands: what it runs, where it is, and its counts. Times are epoch
 * seconds, {@code null} until they happen.
 *
 * @param id e.g. {@code batch_0f3c...}
 * @param tenant the tenant that owns it
 * @param endpoint the OpenAI path every item goes to
 * @param model the model every item names
 * @param tier the tier its items run at (the tenant's batch tier when it was created)
 * @param inputFileId the input file
 * @param completionWindow {@code 24h}
 * @param status where it is
 * @param createdAt created
 * @param inProgressAt items started being queued for work
 * @param expiresAt the end of its completion window
 * @param finalizingAt the files started being written
 * @param completedAt completed
 * @param failedAt failed
 * @param expiredAt expired
 * @param cancellingAt cancel was asked
 * @param cancelledAt cancelled
 * @param outputFileId the output file, once written
 * @param errorFileId the error file, once written (only when some item failed)
 * @param total items
 * @param completed items answered with a 2xx
 * @param failed items that ended in the error file
 * @param enqueuedTokens its tokens counted against the enqueued-tokens limit
 * @param metadata the caller's key-value pairs
 * @param errors why a failed batch failed, with line numbers
 */
public record Batch(String id, String tenant, String endpoint, String model, Tier tier, String inputFileId,
		String completionWindow, BatchStatus status, long createdAt, Long inProgressAt, Long expiresAt,
		Long finalizingAt, Long completedAt, Long failedAt, Long expiredAt, Long cancellingAt, Long cancelledAt,
		String outputFileId, String errorFileId, int total, int completed, int failed, long enqueuedTokens,
		Map<String, String> metadata, List<String> errors) {

	/**
	 * The status a caller sees: a cancelled batch whose files are being written is
	 * {@code cancelling} until it is {@code cancelled} (as with OpenAI), not
	 * {@code finalizing}, which is the way to {@code completed}.
	 * @return the status to show
	 */
	public BatchStatus visibleStatus() {
		return (this.status == BatchStatus.FINALIZING && this.cancellingAt != null) ? BatchStatus.CANCELLING
				: this.status;
	}

	/**
	 * Items that have neither completed nor failed.
	 * @return the rest
	 */
	public int remaining() {
		return Math.max(0, this.total - this.completed - this.failed);
	}

}
