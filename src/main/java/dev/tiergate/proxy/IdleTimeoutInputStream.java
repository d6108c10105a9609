package dev.tiergate.proxy;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;

/**
 * An upstream answer's body that gives up when no byte arrives for the idle timeout. The
 * JDK client's request timeout stops counting once the headers have arrived
 * (JDK-8258397), so a pod that stalls after its headers would otherwise hold the read,
 * the slot and the quota lease forever. Each read notes when it began; the
 * {@link Sweeper} finds a read that has waited for the idle timeout (within one tick) and
 * closes the stream, which aborts the exchange and wakes the read, and the read fails
 * with {@link IdleTimeoutException}. The time between reads, when the caller writes to
 * its client, does not count, nor does the time a borrower holds bytes lent
 * ({@link LendingInput}, when the body lends). Close the stream when done: that ends its
 * checks.
 */
final class IdleTimeoutInputStream extends FilterInputStream
		implements Sweeper.Entry, LendingInput, LendingInput.Borrower {

	private final Sweeper sweeper;

	private final long idleNanos;

	/** When the read in progress began ({@link System#nanoTime()}), 0 between reads. */
	private volatile long readSince;

	private volatile boolean expired;

	/** The borrower of the lend in progress (one reader at a time). */
	private Borrower borrower;

	/** Whether the borrower of the lend in progress failed (its client, not the body). */
	private boolean borrowerFailed;

	private IdleTimeoutInputStream(InputStream in, Sweeper sweeper, Duration idle) {
		super(in);
		this.sweeper = sweeper;
		this.idleNanos = idle.toNanos();
	}

	/**
	 * Watches a body's reads until it is closed.
	 * @param in the body
	 * @param sweeper what checks the reads
	 * @param idle longest a read may wait for a byte
	 * @return the watched body
	 */
	static IdleTimeoutInputStream watch(InputStream in, Sweeper sweeper, Duration idle) {
		IdleTimeoutInputStream watched = new IdleTimeoutInputStream(in, sweeper, idle);
		sweeper.add(watched);
		return watched;
	}

	@Override
	public int read() throws IOException {
		byte[] one = new byte[1];
		int n = read(one, 0, 1);
		return (n < 0) ? -1 : (one[0] & 0xff);
	}

	@Override
	public int read(byte[] b, int off, int len) throws IOException {
		startWaiting();
		try {
			int n = super.read(b, off, len);
			failIfExpired();
			return n;
		}
		catch (IOException ex) {
			throw translated(ex);
		}
		finally {
			this.readSince = 0;
		}
	}

	/**
	 * Waits as a read does, under the same timeout.
	 * @throws IllegalStateException if the watched body does not lend
	 */
	@Override
	public boolean await() throws IOException {
		startWaiting();
		try {
			boolean more = lending().await();
			failIfExpired();
			return more;
		}
		catch (IOException ex) {
			throw translated(ex);
		}
		finally {
			this.readSince = 0;
		}
	}

	/**
	 * Lends as the watched body does, under the same timeout, which stops while the
	 * borrower holds the bytes; what the borrower throws passes through as it is.
	 * @throws IllegalStateException if the watched body does not lend
	 */
	@Override
	public int lendTo(Borrower borrower) throws IOException {
		startWaiting();
		this.borrower = borrower;
		try {
			return lending().lendTo(this);
		}
		catch (IOException ex) {
			throw this.borrowerFailed ? ex : translated(ex);
		}
		finally {
			this.readSince = 0;
			this.borrower = null;
			this.borrowerFailed = false;
		}
	}

	/** The bytes arrived: the wait is over; hands them to the lend's borrower. */
	@Override
	public void take(byte[] bytes, int offset, int length) throws IOException {
		this.readSince = 0;
		failIfExpired();
		try {
			this.borrower.take(bytes, offset, length);
		}
		catch (IOException | RuntimeException ex) {
			this.borrowerFailed = true;
			throw ex;
		}
	}

	private LendingInput lending() {
		if (this.in instanceof LendingInput lending) {
			return lending;
		}
		throw new IllegalStateException("the watched body does not lend its bytes");
	}

	private void startWaiting() {
		long now = System.nanoTime();
		// 0 means "not reading"; a clock reading of exactly 0 counts as 1 ns later.
		this.readSince = (now != 0) ? now : 1;
	}

	private void failIfExpired() throws IdleTimeoutException {
		if (this.expired) {
			throw new IdleTimeoutException(this.idleNanos);
		}
	}

	private IOException translated(IOException ex) {
		return (this.expired && !(ex instanceof IdleTimeoutException)) ? new IdleTimeoutException(this.idleNanos) : ex;
	}

	@Override
	public byte[] readAllBytes() throws IOException {
		return readNBytes(Integer.MAX_VALUE);
	}

	@Override
	public void check(long nowNanos) {
		long since = this.readSince;
		if (since != 0 && nowNanos - since >= this.idleNanos && !this.expired) {
			this.expired = true;
			this.sweeper.remove(this);
			try {
				this.in.close();
			}
			catch (IOException ex) {
				// aborting anyway
			}
		}
	}

	@Override
	public void close() throws IOException {
		this.sweeper.remove(this);
		super.close();
	}

	/** No byte arrived from the endpoint for the idle timeout. */
	static final class IdleTimeoutException extends IOException {

		IdleTimeoutException(long idleNanos) {
			super("no byte from the endpoint for " + Duration.ofNanos(idleNanos), null);
		}

	}

}
