package dev.tiergate.batch;

import java.time.Duration;

/**
 * A batch's progress as the dashboard draws it: items completed, failed, running
 * (delivered to a worker and not acknowledged) and queued, the rate since it started and
 * the expected completion at that rate.
 *
 * @param batch the batch
 * @param inFlight items running
 * @param queued items not started
 * @param itemsPerSecond items finished per second since it started, 0 before
 * @param eta expected time to finish at that rate, or {@code null} when unknown or
 * finished
 */
public record BatchProgress(Batch batch, long inFlight, long queued, double itemsPerSecond, Duration eta) {

	/**
	 * The progress of a batch.
	 * @param batch the batch
	 * @param pending items delivered and not acknowledged
	 * @param nowSeconds the time
	 * @return its progress
	 */
	static BatchProgress of(Batch batch, long pending, long nowSeconds) {
		boolean running = !batch.status().terminal();
		long inFlight = running ? Math.min(pending, batch.remaining()) : 0;
		long queued = running ? Math.max(0, batch.remaining() - inFlight) : 0;
		long done = batch.completed() + batch.failed();
		Long started = batch.inProgressAt();
		Long ended = (batch.completedAt() != null) ? batch.completedAt()
				: (batch.cancelledAt() != null) ? batch.cancelledAt() : batch.expiredAt();
		double rate = 0;
		if (started != null && done > 0) {
			long end = (ended != null) ? ended : nowSeconds;
			rate = done / (double) Math.max(1, end - started);
		}
		Duration eta = (running && rate > 0 && batch.remaining() > 0)
				? Duration.ofSeconds((long) Math.ceil(batch.remaining() / rate)) : null;
		return new BatchProgress(batch, inFlight, queued, rate, eta);
	}

	/**
	 * Where each part of the bar starts and how wide it is, out of 1000.
	 * @return completed, failed, in flight, queued widths
	 */
	public int[] widths() {
		int total = Math.max(1, this.batch.total());
		return new int[] { 1000 * this.batch.completed() / total, 1000 * this.batch.failed() / total,
				(int) (1000 * this.inFlight / total), (int) (1000 * this.queued / total) };
	}

	/**
	 * The x of each part of the bar.
	 * @return offsets of completed, failed, in flight, queued
	 */
	public int[] offsets() {
		int[] w = widths();
		return new int[] { 0, w[0], w[0] + w[1], w[0] + w[1] + w[2] };
	}

}
