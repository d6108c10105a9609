package dev.tiergate.batch;

/**
 * Fault injection points in the batch workers and the queueing of a batch, for tests that
 * kill a worker at a chosen step. The workers call {@link #at} at each point; an
 * implementation that throws there stops that step as a crash would: nothing after it
 * happens (no result written, no acknowledgement), and the item stays pending for another
 * worker to claim. Production has no implementation ({@link #NONE}).
 */
@FunctionalInterface
public interface BatchFaults {

	/** No faults. */
	BatchFaults NONE = (point, batchId, customId) -> {
	};

	/**
	 * Where a worker is.
	 */
	enum Point {

		/** A page of a batch's items is queued (on creation, or queueing again). */
		QUEUED,

		/**
		 * Queueing a new batch failed; it is about to be marked failed and its tokens
		 * released.
		 */
		QUEUEING_FAILED,

		/** About to read new items from a batch's stream. */
		BEFORE_READ,

		/** An item has run; its result is about to be written. */
		BEFORE_RESULT_WRITE,

		/** An item's result is written; it is about to be acknowledged. */
		AFTER_RESULT_WRITE,

		/** An item left by another worker was just claimed, before anything else. */
		RECLAIMED,

		/** A batch's files are about to be written. */
		BEFORE_FINALIZE,

		/**
		 * A batch's files are written; its status is about to change to the final one.
		 */
		FILES_WRITTEN

	}

	/**
	 * Called at each point.
	 * @param point where
	 * @param batchId the batch
	 * @param customId the item, or {@code null} where no item is concerned
	 */
	void at(Point point, String batchId, String customId);

}
