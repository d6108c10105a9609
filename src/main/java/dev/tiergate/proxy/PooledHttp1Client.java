package dev.tiergate.proxy;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An HTTP/1.1 client with keep-alive connections pooled per endpoint, for the calls to
 * inference endpoints: blocking sockets on the caller's (virtual) thread, so a call costs
 * one write and the reads of its answer, with no hand-off to a selector thread and no
 * future chain. It sends exactly one kind of request (a POST with a JSON body) and reads
 * what an inference server answers: a body framed by {@code Content-Length}, chunked
 * ({@code Transfer-Encoding: chunked}, as streamed answers are), or ended by the server
 * closing the connection.
 * <p>
 * A connection goes back to its pool only when its answer was read to its end and neither
 * side asked to close; an answer closed before its end closes the connection, which is
 * how a call is aborted. A connection idle in the pool for longer than
 * {@code idleTimeout} is closed rather than reused (inference servers close idle
 * keep-alive connections: uvicorn, which vLLM runs on, after 5 s). A request whose reused
 * connection turns out closed before any byte of the answer arrived is sent once more on
 * a new connection: the server never read it.
 * <p>
 * Timeouts: {@code connectTimeout} to connect, {@code responseTimeout} until the status
 * line and headers have arrived; after them the caller bounds idle time (see
 * {@link IdleTimeoutInputStream}). {@link Call#cancel()} closes the connection from any
 * thread, which ends a blocked read at once.
 */
final class PooledHttp1Client implements UpstreamClient {

	/**
	 * Bytes read from a connection at a time; held by each open connection, so once per
	 * open stream (an event is about 200 bytes, a small completion's answer with its head
	 * under a kilobyte; longer answers take a read per kilobyte).
	 */
	private static final int BUFFER = 1024;

	private static final int MAX_HEADER_BYTES = 64 * 1024;

	private final Duration connectTimeout;

	private final Duration responseTimeout;

	private final long idleTimeoutNanos;

	private final int maxIdlePerEndpoint;

	private final ConcurrentHashMap<String, Pool> pools = new ConcurrentHashMap<>();

	PooledHttp1Client(Duration connectTimeout, Duration responseTimeout, Duration idleTimeout, int maxIdlePerEndpoint) {
		this.connectTimeout = connectTimeout;
		this.responseTimeout = responseTimeout;
		this.idleTimeoutNanos = idleTimeout.toNanos();
		this.maxIdlePerEndpoint = maxIdlePerEndpoint;
	}

	@Override
	public Call post(URI uri, byte[] body, boolean stream, String requestId) {
		return new PooledCall(uri, body, stream, requestId);
	}

	/** Idle connections in every pool (for tests). */
	int idleConnections() {
		int idle = 0;
		for (Pool pool : this.pools.values()) {
			idle += pool.idle.size();
		}
		return idle;
	}

	@Override
	public void close() {
		for (Pool pool : this.pools.values()) {
			Connection connection;
			while ((connection = pool.idle.pollFirst()) != null) {
				connection.close();
			}
		}
	}

	private Pool pool(URI uri) {
		String key = uri.getHost() + ":" + port(uri);
		Pool pool = this.pools.get(key);
		return (pool != null) ? pool : this.pools.computeIfAbsent(key, (k) -> new Pool(uri.getHost(), port(uri)));
	}

	private static int port(URI uri) {
		return (uri.getPort() != -1) ? uri.getPort() : "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
	}

	/** The idle connections to one endpoint, most recently used first. */
	private final class Pool {

		private final String host;

		private final int port;

		private final String hostHeader;

		private final ConcurrentLinkedDeque<Connection> idle = new ConcurrentLinkedDeque<>();

		private final AtomicInteger idleCount = new AtomicInteger();

		Pool(String host, int port) {
			this.host = host;
			this.port = port;
			this.hostHeader = (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
		}

		/** A pooled connection that has not been idle too long, or {@code null}. */
		Connection take() {
			long now = System.nanoTime();
			Connection connection;
			while ((connection = this.idle.pollFirst()) != null) {
				this.idleCount.decrementAndGet();
				if (now - connection.idleSince < PooledHttp1Client.this.idleTimeoutNanos) {
					return connection;
				}
				connection.close();
			}
			return null;
		}

		Connection open() throws IOException {
			Socket socket = new Socket();
			try {
				socket.setTcpNoDelay(true);
				socket.connect(new InetSocketAddress(this.host, this.port),
						(int) Math.min(Integer.MAX_VALUE, PooledHttp1Client.this.connectTimeout.toMillis()));
				return new Connection(this, socket);
			}
			catch (IOException ex) {
				socket.close();
				throw ex;
			}
		}

		void release(Connection connection) {
			if (this.idleCount.incrementAndGet() > PooledHttp1Client.this.maxIdlePerEndpoint) {
				this.idleCount.decrementAndGet();
				connection.close();
				return;
			}
			connection.idleSince = System.nanoTime();
			this.idle.offerFirst(connection);
		}

	}

	/** One keep-alive connection and its read buffer. */
	private static final class Connection {

		private final Pool pool;

		private final Socket socket;

		private final InputStream in;

		private final OutputStream out;

		private final byte[] buffer = new byte[BUFFER];

		private int position;

		private int limit;

		private long idleSince;

		private boolean reused;

		Connection(Pool pool, Socket socket) throws IOException {
			this.pool = pool;
			this.socket = socket;
			this.in = socket.getInputStream();
			this.out = socket.getOutputStream();
		}

		/** Fills the buffer with what one read gives; -1 at the end of the stream. */
		int fill() throws IOException {
			int n = this.in.read(this.buffer, 0, this.buffer.length);
			if (n > 0) {
				this.position = 0;
				this.limit = n;
			}
			return n;
		}

		int read() throws IOException {
			if (this.position == this.limit && fill() < 0) {
				return -1;
			}
			return this.buffer[this.position++] & 0xff;
		}

		/** Reads at most {@code max} bytes that one socket read gives; -1 at the end. */
		int read(byte[] into, int offset, int max) throws IOException {
			if (this.position == this.limit && fill() < 0) {
				return -1;
			}
			int n = Math.min(max, this.limit - this.position);
			System.arraycopy(this.buffer, this.position, into, offset, n);
			this.position += n;
			return n;
		}

		/** A CRLF- (or LF-) ended line in ISO-8859-1, without its end. */
		String line(int[] budget) throws IOException {
			StringBuilder line = new StringBuilder(64);
			while (true) {
				int b = read();
				if (b < 0) {
					throw new EOFException("connection closed in the answer's head");
				}
				if (--budget[0] < 0) {
					throw new IOException("answer head larger than " + MAX_HEADER_BYTES + " bytes");
				}
				if (b == '\n') {
					int length = line.length();
					if (length > 0 && line.charAt(length - 1) == '\r') {
						line.setLength(length - 1);
					}
					return line.toString();
				}
				line.append((char) b);
			}
		}

		void close() {
			try {
				this.socket.close();
			}
			catch (IOException ex) {
				// closing: nothing to do
			}
		}

	}

	/** One POST on one connection. */
	private final class PooledCall implements Call {

		private final URI uri;

		private final byte[] body;

		private final boolean stream;

		private final String requestId;

		private volatile Connection connection;

		private volatile boolean cancelled;

		PooledCall(URI uri, byte[] body, boolean stream, String requestId) {
			this.uri = uri;
			this.body = body;
			this.stream = stream;
			this.requestId = requestId;
		}

		@Override
		public void cancel() {
			this.cancelled = true;
			Connection current = this.connection;
			if (current != null) {
				current.close();
			}
		}

		@Override
		public Answer execute() throws IOException {
			Pool pool = pool(this.uri);
			Connection reused = pool.take();
			if (reused != null) {
				reused.reused = true;
				try {
					return exchange(reused);
				}
				catch (StaleConnection stale) {
					// The server had closed the idle connection before reading the
					// request: send it once more on a new one.
				}
			}
			try {
				return exchange(pool.open());
			}
			catch (StaleConnection stale) {
				throw stale.cause;
			}
		}

		private Answer exchange(Connection connection) throws IOException {
			this.connection = connection;
			if (this.cancelled) {
				connection.close();
				throw new CallCancelledException();
			}
			boolean answerStarted = false;
			try {
				connection.socket
					.setSoTimeout((int) Math.min(Integer.MAX_VALUE, PooledHttp1Client.this.responseTimeout.toMillis()));
				connection.out.write(head(connection.pool));
				connection.out.write(this.body);
				connection.out.flush();
				int first = connection.read();
				if (first < 0) {
					throw new EOFException("connection closed before the answer");
				}
				answerStarted = true;
				connection.position--;
				Answer answer = readHead(connection);
				connection.socket.setSoTimeout(0);
				return answer;
			}
			catch (IOException ex) {
				connection.close();
				if (this.cancelled) {
					throw new CallCancelledException();
				}
				if (connection.reused && !answerStarted
						&& (ex instanceof EOFException || ex instanceof SocketException)) {
					throw new StaleConnection(ex);
				}
				throw ex;
			}
		}

		private byte[] head(Pool pool) {
			String path = this.uri.getRawPath();
			if (this.uri.getRawQuery() != null) {
				path = path + "?" + this.uri.getRawQuery();
			}
			String head = "POST " + path + " HTTP/1.1\r\nHost: " + pool.hostHeader
					+ "\r\nContent-Type: application/json\r\nAccept: "
					+ (this.stream ? "text/event-stream" : "application/json") + "\r\nX-Request-Id: " + this.requestId
					+ "\r\nContent-Length: " + this.body.length + "\r\n\r\n";
			return head.getBytes(StandardCharsets.ISO_8859_1);
		}

		private Answer readHead(Connection connection) throws IOException {
			int[] budget = { MAX_HEADER_BYTES };
			while (true) {
				String statusLine = connection.line(budget);
				if (!statusLine.startsWith("HTTP/1.") || statusLine.length() < 12) {
					throw new IOException("not an HTTP/1.x status line: "
							+ statusLine.substring(0, Math.min(40, statusLine.length())));
				}
				int status;
				try {
					status = Integer.parseInt(statusLine, 9, 12, 10);
				}
				catch (NumberFormatException ex) {
					throw new IOException("bad status line: " + statusLine, ex);
				}
				boolean http10 = statusLine.startsWith("HTTP/1.0");
				String contentType = null;
				long contentLength = -1;
				boolean chunked = false;
				boolean close = http10;
				String line;
				while (!(line = connection.line(budget)).isEmpty()) {
					int colon = line.indexOf(':');
					if (colon <= 0) {
						continue;
					}
					String value = line.substring(colon + 1).strip();
					if (line.regionMatches(true, 0, "content-type", 0, colon) && colon == 12) {
						contentType = value;
					}
					else if (line.regionMatches(true, 0, "content-length", 0, colon) && colon == 14) {
						try {
							contentLength = Long.parseLong(value);
						}
						catch (NumberFormatException ex) {
							throw new IOException("bad Content-Length: " + value, ex);
						}
					}
					else if (line.regionMatches(true, 0, "transfer-encoding", 0, colon) && colon == 17) {
						chunked = value.toLowerCase(java.util.Locale.ROOT).contains("chunked");
					}
					else if (line.regionMatches(true, 0, "connection", 0, colon) && colon == 10) {
						String token = value.toLowerCase(java.util.Locale.ROOT);
						close = token.contains("close") || (http10 && !token.contains("keep-alive"));
					}
				}
				if (status >= 100 && status < 200) {
					// An interim answer (100 Continue, 103 Early Hints): the final one
					// follows.
					continue;
				}
				InputStream body;
				if (status == 204 || status == 304) {
					body = new Body(connection, 0, false, close);
				}
				else if (chunked) {
					body = new Body(connection, -1, true, close);
				}
				else if (contentLength >= 0) {
					body = new Body(connection, contentLength, false, close);
				}
				else {
					body = new Body(connection, -1, false, true);
				}
				return new Answer(status, contentType, body, chunked ? -1 : contentLength);
			}
		}

	}

	/**
	 * An answer's body: a fixed length, chunks, or everything until the server closes.
	 * Read to its end, its connection goes back to the pool (unless either side asked to
	 * close); closed before, the connection is closed.
	 */
	private static final class Body extends InputStream implements LendingInput {

		private final Connection connection;

		private final boolean chunked;

		private final boolean close;

		/** Bytes left: of the body (fixed length), of the current chunk, or -1 to EOF. */
		private long remaining;

		private boolean ended;

		private volatile boolean closed;

		/**
		 * Whether close ran: once only, though a preemption may close from another
		 * thread.
		 */
		private final java.util.concurrent.atomic.AtomicBoolean closing = new java.util.concurrent.atomic.AtomicBoolean();

		Body(Connection connection, long length, boolean chunked, boolean close) throws IOException {
			this.connection = connection;
			this.chunked = chunked;
			this.close = close;
			this.remaining = chunked ? 0 : length;
			if (!chunked && length == 0) {
				end();
			}
		}

		@Override
		public int read() throws IOException {
			byte[] one = new byte[1];
			int n = read(one, 0, 1);
			return (n < 0) ? -1 : (one[0] & 0xff);
		}

		@Override
		public int read(byte[] into, int offset, int length) throws IOException {
			if (length == 0) {
				if (this.closed) {
					throw new IOException("answer closed");
				}
				return this.ended ? -1 : 0;
			}
			if (!await()) {
				return -1;
			}
			int n = Math.min(length, takeable());
			System.arraycopy(this.connection.buffer, this.connection.position, into, offset, n);
			this.connection.position += n;
			taken(n);
			return n;
		}

		@Override
		public boolean await() throws IOException {
			if (this.closed) {
				throw new IOException("answer closed");
			}
			if (this.ended) {
				return false;
			}
			if (this.chunked && this.remaining == 0) {
				this.remaining = nextChunk();
				if (this.remaining == 0) {
					trailers();
					end();
					return false;
				}
			}
			if (this.connection.position == this.connection.limit && this.connection.fill() < 0) {
				if (this.remaining < 0 && !this.chunked) {
					// Delimited by the server closing the connection.
					this.ended = true;
					this.closed = true;
					this.connection.close();
					return false;
				}
				throw new EOFException("connection closed in the middle of the answer");
			}
			return true;
		}

		@Override
		public int lendTo(LendingInput.Borrower borrower) throws IOException {
			if (!await()) {
				return -1;
			}
			int n = takeable();
			int from = this.connection.position;
			this.connection.position += n;
			// Lent before the bookkeeping, which may read on into the same buffer.
			borrower.take(this.connection.buffer, from, n);
			taken(n);
			return n;
		}

		/** Bytes of the body in the connection's buffer. */
		private int takeable() {
			int buffered = this.connection.limit - this.connection.position;
			return (this.remaining < 0) ? buffered : (int) Math.min(buffered, this.remaining);
		}

		/**
		 * Counts bytes taken: past a chunk's end its CRLF, past a fixed length the end.
		 */
		private void taken(int n) throws IOException {
			if (this.remaining > 0) {
				this.remaining -= n;
				if (this.remaining == 0) {
					if (this.chunked) {
						crlf();
					}
					else {
						end();
					}
				}
			}
		}

		/**
		 * A chunk's size line, read byte by byte from the connection's buffer with
		 * nothing allocated: hexadecimal digits, optional spaces or tabs around them and
		 * any extension after a semicolon, ended by LF (with or without CR).
		 */
		private long nextChunk() throws IOException {
			long size = 0;
			int digits = 0;
			boolean digitsEnded = false;
			boolean extension = false;
			for (int budget = MAX_HEADER_BYTES;; budget--) {
				int b = this.connection.read();
				if (b < 0) {
					throw new EOFException("connection closed in the answer's head");
				}
				if (budget <= 0) {
					throw new IOException("answer head larger than " + MAX_HEADER_BYTES + " bytes");
				}
				if (b == '\n') {
					break;
				}
				if (extension) {
					continue;
				}
				int digit = (b < 0x80) ? Character.digit(b, 16) : -1;
				if (digit >= 0) {
					if (digitsEnded) {
						throw new IOException("bad chunk size: a space between its digits");
					}
					if (size > (Long.MAX_VALUE >> 4)) {
						throw new IOException("bad chunk size: more than 63 bits");
					}
					size = (size << 4) | digit;
					digits++;
				}
				else if (b == ';') {
					extension = true;
				}
				else if (b == ' ' || b == '\t' || b == '\r') {
					// around the digits, and the line's CR
					digitsEnded = digits > 0;
				}
				else {
					throw new IOException("bad chunk size: byte 0x" + Integer.toHexString(b));
				}
			}
			if (digits == 0) {
				throw new IOException("bad chunk size: no digits");
			}
			return size;
		}

		/** The CRLF (or LF) after a chunk's data. */
		private void crlf() throws IOException {
			int b = this.connection.read();
			if (b == '\r') {
				b = this.connection.read();
			}
			if (b != '\n') {
				throw (b < 0) ? new EOFException("connection closed in the answer's head")
						: new IOException("chunk not followed by CRLF");
			}
		}

		private void trailers() throws IOException {
			int[] budget = { MAX_HEADER_BYTES };
			while (!this.connection.line(budget).isEmpty()) {
				// trailers are not used
			}
		}

		private void end() {
			this.ended = true;
		}

		@Override
		public int available() {
			return (this.ended || this.closed) ? 0 : Math.max(0, this.connection.limit - this.connection.position);
		}

		@Override
		public void close() {
			if (!this.closing.compareAndSet(false, true)) {
				return;
			}
			this.closed = true;
			if (this.ended && !this.close && this.connection.position == this.connection.limit) {
				this.connection.reused = false;
				this.connection.pool.release(this.connection);
			}
			else {
				this.connection.close();
			}
		}

	}

	/** A reused connection that the server had closed: the request was not read. */
	private static final class StaleConnection extends IOException {

		private final IOException cause;

		StaleConnection(IOException cause) {
			super(cause);
			this.cause = cause;
		}

	}

}
