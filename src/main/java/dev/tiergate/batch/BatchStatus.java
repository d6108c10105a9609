package dev.tiergate.batch;

import java.util.Locale;

/**
 * A batch's status, as OpenAI names it.
 */
public enum BatchStatus {

	/** Its input is being checked and queued. */
	VALIDATING,

	/** The input was not valid; nothing ran. */
	FAILED,

	/** Its items are being run. */
	IN_PROGRESS,

	/** All items ran; the output and error files are being written. */
	FINALIZING,

	/** Done; the output and error files are ready. */
	COMPLETED,

	/** The completion window passed; what ran is in the files, the rest as errors. */
	EXPIRED,

	/** Cancelled: no new item starts, running ones finish. */
	CANCELLING,

	/** Cancelled; what ran is in the files. */
	CANCELLED;

	/**
	 * The name in OpenAI's JSON.
	 * @return e.g. {@code in_progress}
	 */
	public String wire() {
		return name().toLowerCase(Locale.ROOT);
	}

	/**
	 * Whether nothing will change any more.
	 * @return {@code true} for completed, failed, expired, cancelled
	 */
	public boolean terminal() {
		return this == COMPLETED || this == FAILED || this == EXPIRED || this == CANCELLED;
	}

	/**
	 * The status of a wire name.
	 * @param wire e.g. {@code in_progress}
	 * @return the status
	 */
	public static BatchStatus of(String wire) {
		return valueOf(wire.toUpperCase(Locale.ROOT));
	}

}
