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
 * its client, does not count. Close the stream when done: that ends its checks.
 */
final class IdleTimeoutInputStream extends FilterInputStream implements Sweeper.Entry {

	private final Sweeper sweeper;

	private final long idleNanos;

	/** When the read in progress began ({@link System#nanoTime()}), 0 between reads. */
	private volatile long readSince;

	private volatile boolean expired;

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
		long now = System.nanoTime();
		// 0 means "not reading"; a clock reading of exactly 0 counts as 1 ns later.
		this.readSince = (now != 0) ? now : 1;
		try {
			int n = super.read(b, off, len);
			if (this.expired) {
				throw new IdleTimeoutException(this.idleNanos);
			}
			return n;
		}
		catch (IOException ex) {
			if (this.expired && !(ex instanceof IdleTimeoutException)) {
				throw new IdleTimeoutException(this.idleNanos);
			}
			throw ex;
		}
		finally {
			this.readSince = 0;
		}
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
