package dev.tiergate.web;

import java.lang.reflect.Field;
import java.nio.CharBuffer;
import java.util.concurrent.atomic.LongAdder;

import org.apache.catalina.connector.Connector;
import org.apache.catalina.connector.CoyoteAdapter;
import org.apache.catalina.connector.InputBuffer;
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
 * </ul>
 * Public with a public constructor: Tomcat creates its protocol by class name.
 */
public class SizedBuffersHttp11NioProtocol extends Http11NioProtocol {

	private static final Logger logger = LoggerFactory.getLogger(SizedBuffersHttp11NioProtocol.class);

	private static final Field REQUEST_INPUT_BUFFER = field(Request.class, "inputBuffer", InputBuffer.class);

	private static final Field INPUT_BUFFER_CHARS = field(InputBuffer.class, "cb", CharBuffer.class);

	private volatile int desiredBufferSize = -1;

	private volatile int readerBufferChars = -1;

	private volatile Connector connector;

	private final LongAdder smallReaders = new LongAdder();

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
	 * Returns how many request objects this protocol made with the smaller reader buffer
	 * (one per request processor, which Tomcat reuses for many requests).
	 * @return requests made with the smaller buffer
	 */
	public long smallReaders() {
		return this.smallReaders.sum();
	}

	@Override
	public void setAdapter(Adapter adapter) {
		boolean canResize = REQUEST_INPUT_BUFFER != null && INPUT_BUFFER_CHARS != null;
		super.setAdapter((adapter instanceof CoyoteAdapter && canResize) ? new SmallReaderAdapter(adapter) : adapter);
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
			logger.warn("Tomcat's {}.{} cannot be read ({}): requests keep Tomcat's 16 KB reader buffer",
					type.getSimpleName(), name, ex.toString());
			return null;
		}
	}

	/**
	 * Tomcat's adapter, given request objects made as it would make them, with the
	 * smaller reader buffer.
	 */
	private final class SmallReaderAdapter implements Adapter {

		private final Adapter delegate;

		SmallReaderAdapter(Adapter delegate) {
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

		/** What {@code CoyoteAdapter.service} does first, with the smaller buffer. */
		private void prepareObjects(org.apache.coyote.Request req, org.apache.coyote.Response res) {
			Connector owner = SizedBuffersHttp11NioProtocol.this.connector;
			int chars = SizedBuffersHttp11NioProtocol.this.readerBufferChars;
			if (owner == null || chars < 0 || req.getNote(CoyoteAdapter.ADAPTER_NOTES) != null) {
				return;
			}
			Request request = owner.createRequest(req);
			Response response = owner.createResponse(res);
			request.setResponse(response);
			response.setRequest(request);
			req.setNote(CoyoteAdapter.ADAPTER_NOTES, request);
			res.setNote(CoyoteAdapter.ADAPTER_NOTES, response);
			req.getParameters().setQueryStringCharset(owner.getURICharset());
			try {
				CharBuffer small = CharBuffer.allocate(chars);
				small.rewind().limit(0);
				INPUT_BUFFER_CHARS.set(REQUEST_INPUT_BUFFER.get(request), small);
				SizedBuffersHttp11NioProtocol.this.smallReaders.increment();
			}
			catch (IllegalAccessException ex) {
				// set accessible when the fields were found: cannot happen; Tomcat's
				// buffer stays
			}
		}

	}

}
