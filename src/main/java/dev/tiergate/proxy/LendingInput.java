package dev.tiergate.proxy;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * An upstream body whose bytes can be lent from the buffer they were read into rather
 * than copied into one of the caller's. A stream held open for minutes then waits with no
 * copy buffer of its own: the pooled client's connection buffer is the only one (4 KB per
 * held stream less, docs/benchmarks.md).
 */
interface LendingInput {

	/**
	 * Waits until the body has a byte that can be taken without waiting, or has ended.
	 * @return {@code false} at the body's end
	 * @throws IOException if the body cannot be read
	 */
	boolean await() throws IOException;

	/**
	 * Lends the bytes one read gives (waiting as {@link #await()} does) to the borrower,
	 * which must be done with them when it returns; they count as read.
	 * @param borrower what takes the bytes
	 * @return how many bytes were lent, or -1 at the body's end
	 * @throws IOException if the body cannot be read, or as the borrower threw it
	 */
	int lendTo(Borrower borrower) throws IOException;

	/**
	 * A body that lends: the given one if it does, else the given one read through a
	 * buffer of the given size, made when first needed.
	 * @param in the body
	 * @param bufferSize the buffer's size for a body that does not lend
	 * @return a body that lends
	 */
	static InputStream of(InputStream in, int bufferSize) {
		return (in instanceof LendingInput) ? in : new Buffered(in, bufferSize);
	}

	/** Takes lent bytes. */
	@FunctionalInterface
	interface Borrower {

		/**
		 * Takes bytes that stay valid only until this returns.
		 * @param bytes the buffer
		 * @param offset where the bytes start
		 * @param length how many
		 * @throws IOException if what the borrower writes to failed
		 */
		void take(byte[] bytes, int offset, int length) throws IOException;

	}

	/** A body read through a buffer of its own, which it lends. */
	final class Buffered extends FilterInputStream implements LendingInput {

		private final int bufferSize;

		private byte[] buffer;

		private int position;

		private int limit;

		private boolean ended;

		Buffered(InputStream in, int bufferSize) {
			super(in);
			if (bufferSize < 1) {
				throw new IllegalArgumentException("a buffer of at least one byte, not " + bufferSize);
			}
			this.bufferSize = bufferSize;
		}

		@Override
		public boolean await() throws IOException {
			if (this.position < this.limit) {
				return true;
			}
			if (this.ended) {
				return false;
			}
			if (this.buffer == null) {
				this.buffer = new byte[this.bufferSize];
			}
			int n = this.in.read(this.buffer, 0, this.buffer.length);
			while (n == 0) {
				n = this.in.read(this.buffer, 0, this.buffer.length);
			}
			if (n < 0) {
				this.ended = true;
				return false;
			}
			this.position = 0;
			this.limit = n;
			return true;
		}

		@Override
		public int lendTo(Borrower borrower) throws IOException {
			if (!await()) {
				return -1;
			}
			int from = this.position;
			int n = this.limit - from;
			this.position = this.limit;
			borrower.take(this.buffer, from, n);
			return n;
		}

		@Override
		public int read() throws IOException {
			if (!await()) {
				return -1;
			}
			return this.buffer[this.position++] & 0xff;
		}

		@Override
		public int read(byte[] into, int offset, int length) throws IOException {
			if (length == 0) {
				return 0;
			}
			if (this.position == this.limit) {
				if (this.ended) {
					return -1;
				}
				// Nothing buffered: read straight into the caller's array.
				int n = this.in.read(into, offset, length);
				if (n < 0) {
					this.ended = true;
				}
				return n;
			}
			int n = Math.min(length, this.limit - this.position);
			System.arraycopy(this.buffer, this.position, into, offset, n);
			this.position += n;
			return n;
		}

		@Override
		public int available() throws IOException {
			return (this.limit - this.position) + ((this.ended) ? 0 : this.in.available());
		}

		@Override
		public long skip(long n) throws IOException {
			int buffered = (int) Math.min(n, this.limit - this.position);
			this.position += buffered;
			return buffered + ((buffered < n && !this.ended) ? this.in.skip(n - buffered) : 0);
		}

		@Override
		public boolean markSupported() {
			return false;
		}

	}

}
