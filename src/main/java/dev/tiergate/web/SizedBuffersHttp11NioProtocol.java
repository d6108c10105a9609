package dev.tiergate.web;

import java.lang.reflect.Field;
import java.nio.CharBuffer;
import java.util.concurrent.atomic.LongAdder;

import org.apache.catalina.connector.Connector;
import org.apache.catalina.connector.CoyoteAdapter;
import org.apache.catalina.connector.InputBuffer;
import org.apache.catalina.connector.OutputBuffer;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.coyote.Adapter;
import org.apache.coyote.http11.Http11NioProtocol;
import org.apache.tomcat.util.net.SocketEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tomcat's NIO HTTP/1.1 protocol with the buffers it allocates per request sized for a
 * replica holding thousands of streams, each of which keeps its request's buffers until
 * it ends.
 * <ul>
 * <li>The response buffer ({@code desiredBufferSize}): Tomcat's connector sizes each
 * response's output buffer by it, and without it allocates 8 KB of bytes and 16 KB of
 * characters per response (8,192 of each). A servlet may still ask for more
 * ({@code setBufferSize}).</li>
 * <li>The request reader's character buffer: Tomcat's request allocates 8,192 characters
 * (16 KB) for {@code getReader()} when the request object is made, though the gateway
 * reads its bodies as bytes. Requests made through this protocol start it at
 * {@link #setReaderBufferChars(int) readerBufferChars} characters instead; a reader still
 * decodes any body through it, a piece at a time, and {@code mark} grows it up to
 * Tomcat's limit as before. Tomcat offers no setting for it, so the protocol makes the
 * request objects itself, as Tomcat's adapter would, and replaces the empty buffer before
 * the first use (a private field of {@link InputBuffer}; if a Tomcat version renames it,
 * the protocol logs a warning once and keeps Tomcat's buffer).</li>
 * <li>The response writer's character buffer: Tomcat's response allocates as many
 * characters as the response buffer has bytes (8 KB for the 4 KB default), used only by
 * {@code getWriter()}, though the gateway's answers and streams are written as bytes.
 * Responses made through this protocol get {@link #setWriterBufferChars(int)
 * writerBufferChars} characters instead; a writer still encodes any text through it, a
 * piece at a time (a {@code final} field of {@link OutputBuffer}, replaced through
 * reflection as the request object is made, before its first use; where the runtime
 * refuses that, or a Tomcat version renames it, the protocol logs a warning once and
 * keeps Tomcat's buffer).</li>
 * </ul>
 * Public with a public constructor: Tomcat creates its protocol by class name.
 */
public class SizedBuffersHttp11NioProtocol extends Http11NioProtocol {

	private static final Logger logger = LoggerFactory.getLogger(SizedBuffersHttp11NioProtocol.class);

	private static final Field REQUEST_INPUT_BUFFER = field(Request.class, "inputBuffer", InputBuffer.class);

	private static final Field INPUT_BUFFER_CHARS = field(InputBuffer.class, "cb", CharBuffer.class);

	private static final Field RESPONSE_OUTPUT_BUFFER = field(Response.class, "outputBuffer", OutputBuffer.class);

	private static final Field OUTPUT_BUFFER_CHARS = field(OutputBuffer.class, "cb", CharBuffer.class);

	private volatile int desiredBufferSize = -1;

	private volatile int readerBufferChars = -1;

	private volatile int writerBufferChars = -1;

	private volatile Connector connector;

	private final LongAdder smallReaders = new LongAdder();

	private final LongAdder smallWriters = new LongAdder();

	private volatile boolean writerRefused;

	@Override
	public int getDesiredBufferSize() {
		return this.desiredBufferSize;
	}

	/**
	 * Sets the response buffer's size; Tomcat's connector sets it from
	 * {@code desiredBufferSize}.
	 * @param desiredBufferSize bytes (and characters) buffered per response; {@code -1}
	 * for Tomcat's default
	 */
	public void setDesiredBufferSize(int desiredBufferSize) {
		this.desiredBufferSize = desiredBufferSize;
	}

	/**
	 * Sets the characters a request's reader buffer starts with, for requests of this
	 * connector.
	 * @param connector the connector this protocol serves, whose request objects it makes
	 * @param readerBufferChars characters (at least 2); {@code -1} for Tomcat's 8,192
	 */
	public void setReaderBufferChars(Connector connector, int readerBufferChars) {
		if (readerBufferChars != -1 && readerBufferChars < 2) {
			throw new IllegalArgumentException("a reader buffer needs at least 2 characters, not " + readerBufferChars);
		}
		this.connector = connector;
		this.readerBufferChars = readerBufferChars;
	}

	/**
	 * Sets the characters a response's writer buffer has, for requests of the connector
	 * given to {@link #setReaderBufferChars(Connector, int)}.
	 * @param writerBufferChars characters (at least 2); {@code -1} for Tomcat's (as many
	 * as the response buffer's bytes)
	 */
	public void setWriterBufferChars(int writerBufferChars) {
		if (writerBufferChars != -1 && writerBufferChars < 2) {
			throw new IllegalArgumentException("a writer buffer needs at least 2 characters, not " + writerBufferChars);
		}
		this.writerBufferChars = writerBufferChars;
	}

	/**
	 * Returns how many response objects this protocol made with the smaller writer buffer
	 * (one per request processor, which Tomcat reuses for many requests).
	 * @return responses made with the smaller buffer
	 */
	public long smallWriters() {
		return this.smallWriters.sum();
	}

	/**
	 * Returns how many request objects this protocol made with the smaller reader buffer
	 * (one per request processor, which Tomcat reuses for many requests).
	 * @return requests made with the smaller buffer
	 */
	public long smallReaders() {
		return this.smallReaders.sum();
	}

	@Override
	public void setAdapter(Adapter adapter) {
		boolean canResize = (REQUEST_INPUT_BUFFER != null && INPUT_BUFFER_CHARS != null)
				|| (RESPONSE_OUTPUT_BUFFER != null && OUTPUT_BUFFER_CHARS != null);
		super.setAdapter((adapter instanceof CoyoteAdapter && canResize) ? new SmallBuffersAdapter(adapter) : adapter);
	}

	private static Field field(Class<?> type, String name, Class<?> expected) {
		try {
			Field field = type.getDeclaredField(name);
			field.setAccessible(true);
			if (field.getType() != expected) {
				throw new NoSuchFieldException(name + " is a " + field.getType().getName());
			}
			return field;
		}
		catch (ReflectiveOperationException | RuntimeException ex) {
			logger.warn("Tomcat's {}.{} cannot be read ({}): requests keep Tomcat's buffer", type.getSimpleName(), name,
					ex.toString());
			return null;
		}
	}

	/**
	 * Tomcat's adapter, given request objects made as it would make them, with the
	 * smaller reader and writer buffers.
	 */
	private final class SmallBuffersAdapter implements Adapter {

		private final Adapter delegate;

		SmallBuffersAdapter(Adapter delegate) {
			this.delegate = delegate;
		}

		@Override
		public void service(org.apache.coyote.Request req, org.apache.coyote.Response res) throws Exception {
			prepareObjects(req, res);
			this.delegate.service(req, res);
		}

		@Override
		public boolean prepare(org.apache.coyote.Request req, org.apache.coyote.Response res) throws Exception {
			prepareObjects(req, res);
			return this.delegate.prepare(req, res);
		}

		@Override
		public boolean asyncDispatch(org.apache.coyote.Request req, org.apache.coyote.Response res, SocketEvent status)
				throws Exception {
			return this.delegate.asyncDispatch(req, res, status);
		}

		@Override
		public void log(org.apache.coyote.Request req, org.apache.coyote.Response res, long time) {
			this.delegate.log(req, res, time);
		}

		@Override
		public void checkRecycled(org.apache.coyote.Request req, org.apache.coyote.Response res) {
			this.delegate.checkRecycled(req, res);
		}

		@Override
		public String getDomain() {
			return this.delegate.getDomain();
		}

		/** What {@code CoyoteAdapter.service} does first, with the smaller buffers. */
		private void prepareObjects(org.apache.coyote.Request req, org.apache.coyote.Response res) {
			Connector owner = SizedBuffersHttp11NioProtocol.this.connector;
			int readerChars = SizedBuffersHttp11NioProtocol.this.readerBufferChars;
			int writerChars = SizedBuffersHttp11NioProtocol.this.writerBufferChars;
			if (owner == null || (readerChars < 0 && writerChars < 0)
					|| req.getNote(CoyoteAdapter.ADAPTER_NOTES) != null) {
				return;
			}
			Request request = owner.createRequest(req);
			Response response = owner.createResponse(res);
			request.setResponse(response);
			response.setRequest(request);
			req.setNote(CoyoteAdapter.ADAPTER_NOTES, request);
			res.setNote(CoyoteAdapter.ADAPTER_NOTES, response);
			req.getParameters().setQueryStringCharset(owner.getURICharset());
			if (readerChars >= 0 && replace(REQUEST_INPUT_BUFFER, request, INPUT_BUFFER_CHARS, readerChars)) {
				SizedBuffersHttp11NioProtocol.this.smallReaders.increment();
			}
			if (writerChars >= 0 && !SizedBuffersHttp11NioProtocol.this.writerRefused
					&& replace(RESPONSE_OUTPUT_BUFFER, response, OUTPUT_BUFFER_CHARS, writerChars)) {
				SizedBuffersHttp11NioProtocol.this.smallWriters.increment();
			}
		}

		/**
		 * Replaces the still-empty character buffer of the holder's buffer object with an
		 * empty one of the given size, in the state Tomcat's {@code clear} leaves it.
		 */
		private boolean replace(Field holderField, Object holder, Field charsField, int chars) {
			if (holderField == null || charsField == null) {
				return false;
			}
			try {
				CharBuffer small = CharBuffer.allocate(chars);
				small.rewind().limit(0);
				charsField.set(holderField.get(holder), small);
				return true;
			}
			catch (IllegalAccessException | RuntimeException ex) {
				// A runtime that refuses to change a final field: Tomcat's buffer stays,
				// and the writer's is not tried again.
				if (!SizedBuffersHttp11NioProtocol.this.writerRefused && charsField == OUTPUT_BUFFER_CHARS) {
					SizedBuffersHttp11NioProtocol.this.writerRefused = true;
					logger.warn("Tomcat's {}.{} cannot be replaced ({}): responses keep Tomcat's buffer",
							charsField.getDeclaringClass().getSimpleName(), charsField.getName(), ex.toString());
				}
				return false;
			}
		}

	}

}
