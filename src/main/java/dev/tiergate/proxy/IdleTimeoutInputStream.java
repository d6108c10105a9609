package dev.tiergate.proxy;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * An upstream answer's body that gives up when no byte arrives for the idle timeout. The
 * JDK client's request timeout stops counting once the headers have arrived
 * (JDK-8258397), so a pod that stalls after its headers would otherwise hold the read,
 * the slot and the quota lease forever. Each read arms a timer on the watchdog; if it
 * fires first, the stream is closed (which aborts the exchange and wakes the read) and
 * the read fails with {@link IdleTimeoutException}.
 */
final class IdleTimeoutInputStream extends FilterInputStream {

	private final ScheduledExecutorService watchdog;

	private final long idleNanos;

	private volatile boolean expired;

	IdleTimeoutInputStream(InputStream in, ScheduledExecutorService watchdog, Duration idle) {
		super(in);
		this.watchdog = watchdog;
		this.idleNanos = idle.toNanos();
	}

	@Override
	public int read() throws IOException {
		byte[] one = new byte[1];
		int n = read(one, 0, 1);
		return (n < 0) ? -1 : (one[0] & 0xff);
	}

	@Override
	public int read(byte[] b, int off, int len) throws IOException {
		ScheduledFuture<?> timer = this.watchdog.schedule(this::expire, this.idleNanos, TimeUnit.NANOSECONDS);
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
			timer.cancel(false);
		}
	}

	@Override
	public byte[] readAllBytes() throws IOException {
		return readNBytes(Integer.MAX_VALUE);
	}

	private void expire() {
		this.expired = true;
		try {
			this.in.close();
		}
		catch (IOException ex) {
			// aborting anyway
		}
	}

	/** No byte arrived from the endpoint for the idle timeout. */
	static final class IdleTimeoutException extends IOException {

		IdleTimeoutException(long idleNanos) {
			super("no byte from the endpoint for " + Duration.ofNanos(idleNanos), null);
		}

	}

}
