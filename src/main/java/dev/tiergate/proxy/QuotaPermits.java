package dev.tiergate.proxy;

import java.io.IOException;
import java.util.Arrays;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

import dev.tiergate.quota.QuotaPermit;
import dev.tiergate.requestlog.RequestLog;
import dev.tiergate.requestlog.RequestRecord;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;

/**
 * Ends each completion request's {@link QuotaPermit} when its response ends, whatever
 * happened: with the real {@code usage} read from the answer as it passes (the JSON body,
 * or the SSE event that carries it), with the reservation when a served answer reported
 * none, or with a refund when it was not served. The controller attaches the permit with
 * {@link #attach}; this filter is the one place that ends it. A served request's
 * {@link RequestRecord} ({@link #attachRecord}) is completed here too, with the same
 * usage and the final status, and handed to the {@link RequestLog}.
 */
@Component
class QuotaPermits extends OncePerRequestFilter {

	private static final String PERMIT = QuotaPermits.class.getName() + ".permit";

	private static final String RECORD = QuotaPermits.class.getName() + ".record";

	/**
	 * Largest JSON answer read for its usage; larger ones are charged their reservation.
	 */
	private static final int MAX_JSON = 8 * 1024 * 1024;

	/** Longest SSE line inspected. */
	private static final int MAX_LINE = 256 * 1024;

	private final RequestLog log;

	QuotaPermits(ObjectProvider<RequestLog> log) {
		// optional, so that web slice tests need no request log
		this.log = log.getIfAvailable(() -> RequestLog.NONE);
	}

	/**
	 * Hands an admitted request's permit to this filter and puts its rate-limit headers
	 * on the response.
	 * @param request the request
	 * @param response the response
	 * @param permit the permit
	 */
	static void attach(HttpServletRequest request, HttpServletResponse response, QuotaPermit permit) {
		permit.headers().forEach(response::setHeader);
		request.setAttribute(PERMIT, permit);
	}

	/**
	 * Hands a served request's record to this filter, which completes it with the real
	 * usage and the final status and logs it when the answer was served.
	 * @param request the request
	 * @param record the record, with Tiergate's prompt estimate and no completion tokens
	 */
	static void attachRecord(HttpServletRequest request, RequestRecord record) {
		request.setAttribute(RECORD, record);
	}

	@Override
	protected boolean shouldNotFilter(HttpServletRequest request) {
		return !Completions.PATHS.contains(request.getRequestURI());
	}

	@Override
	protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
			throws ServletException, IOException {
		UsageCapture capture = new UsageCapture(response);
		try {
			chain.doFilter(request, capture);
		}
		finally {
			// A stream served on a thread of its own is still running: settled at its
			// end.
			DetachedStream detached = DetachedStream.of(request);
			if (detached != null) {
				detached.settleWhenServed(() -> settle(request, capture));
			}
			else {
				settle(request, capture);
			}
		}
	}

	private void settle(HttpServletRequest request, UsageCapture capture) {
		boolean served = capture.getStatus() < 400 && capture.written > 0;
		long[] usage = served ? capture.usage() : null;
		if (request.getAttribute(PERMIT) instanceof QuotaPermit permit) {
			request.removeAttribute(PERMIT);
			if (served && RequestRecord.HOSTED.equals(capture.getHeader(HostedSpill.SERVED_BY))) {
				permit.servedByHosted();
			}
			if (!served) {
				permit.close();
			}
			else if (usage != null) {
				permit.complete(usage[0], usage[1]);
			}
			else {
				permit.completeUnreported();
			}
		}
		if (request.getAttribute(RECORD) instanceof RequestRecord record) {
			request.removeAttribute(RECORD);
			if (served) {
				this.log
					.append(record.completed(capture.getStatus(), (usage != null) ? usage[0] : record.promptTokens(),
							(usage != null) ? usage[1] : capture.tokenEvents()));
			}
		}
	}

	/**
	 * Passes the answer through and keeps what it needs to find the {@code usage} object.
	 */
	static final class UsageCapture extends HttpServletResponseWrapper {

		private static final byte[] DATA = Bytes.ascii("data:");

		private static final byte[] USAGE = Bytes.ascii("\"usage\"");

		private static final byte[] CONTENT = Bytes.ascii("\"content\":\"");

		private static final byte[] NO_CONTENT = Bytes.ascii("\"content\":\"\"");

		private static final byte[] TEXT = Bytes.ascii("\"text\":\"");

		private static final byte[] NO_TEXT = Bytes.ascii("\"text\":\"\"");

		/** The JSON answer, or the SSE line, so far. */
		private final Buffer buffer = new Buffer();

		private long written;

		private boolean overflow;

		private long[] streamUsage;

		/**
		 * Events that carried generated text: the completion tokens of a stream whose
		 * engine reported no usage (vLLM streams one token per event), for the request
		 * log.
		 */
		private long tokenEvents;

		private ServletOutputStream stream;

		UsageCapture(HttpServletResponse response) {
			super(response);
		}

		private boolean eventStream() {
			String type = getContentType();
			return type != null && type.startsWith("text/event-stream");
		}

		@Override
		public ServletOutputStream getOutputStream() throws IOException {
			if (this.stream == null) {
				ServletOutputStream out = super.getOutputStream();
				this.stream = new ServletOutputStream() {

					@Override
					public void write(int b) throws IOException {
						write(new byte[] { (byte) b }, 0, 1);
					}

					@Override
					public void write(byte[] b, int off, int len) throws IOException {
						out.write(b, off, len);
						observe(b, off, len);
					}

					@Override
					public void flush() throws IOException {
						out.flush();
					}

					@Override
					public boolean isReady() {
						return out.isReady();
					}

					@Override
					public void setWriteListener(WriteListener listener) {
						out.setWriteListener(listener);
					}

				};
			}
			return this.stream;
		}

		private void observe(byte[] b, int off, int len) {
			this.written += len;
			if (!eventStream()) {
				if (this.buffer.length + len > MAX_JSON) {
					this.overflow = true;
				}
				if (!this.overflow) {
					this.buffer.append(b, off, len);
				}
				return;
			}
			int start = off;
			for (int i = off; i < off + len; i++) {
				if (b[i] == '\n') {
					keep(b, start, i);
					line();
					start = i + 1;
				}
			}
			keep(b, start, off + len);
		}

		/** Keeps a line's bytes up to {@link #MAX_LINE}; the rest is not inspected. */
		private void keep(byte[] b, int from, int to) {
			int room = MAX_LINE - this.buffer.length;
			if (room > 0 && to > from) {
				this.buffer.append(b, from, Math.min(to - from, room));
			}
		}

		/**
		 * Inspects the line just ended: its usage, if it has one, and whether it carried
		 * text. The patterns are ASCII, which UTF-8 bytes contain exactly where the
		 * decoded text does.
		 */
		private void line() {
			byte[] line = this.buffer.bytes;
			int length = this.buffer.length;
			this.buffer.length = 0;
			if (!Arrays.equals(line, 0, Math.min(length, DATA.length), DATA, 0, DATA.length)) {
				return;
			}
			if (Bytes.indexOf(line, 0, length, USAGE) >= 0) {
				long[] usage = UsageJson.ofEventData(line, DATA.length, length);
				if (usage != null) {
					this.streamUsage = usage;
				}
			}
			if ((Bytes.indexOf(line, 0, length, CONTENT) >= 0 && Bytes.indexOf(line, 0, length, NO_CONTENT) < 0)
					|| (Bytes.indexOf(line, 0, length, TEXT) >= 0 && Bytes.indexOf(line, 0, length, NO_TEXT) < 0)) {
				this.tokenEvents++;
			}
		}

		long[] usage() {
			if (eventStream()) {
				return this.streamUsage;
			}
			return this.overflow ? null : UsageJson.ofAnswer(this.buffer.bytes, this.buffer.length);
		}

		long tokenEvents() {
			return this.tokenEvents;
		}

	}

	/**
	 * A growing array of bytes, read in place; unsynchronized, unlike
	 * {@code ByteArrayOutputStream}, as one request's response is written by one thread
	 * at a time.
	 */
	private static final class Buffer {

		private byte[] bytes = new byte[256];

		private int length;

		void append(byte[] b, int off, int len) {
			if (this.length + len > this.bytes.length) {
				this.bytes = Arrays.copyOf(this.bytes, Math.max(this.bytes.length * 2, this.length + len));
			}
			System.arraycopy(b, off, this.bytes, this.length, len);
			this.length += len;
		}

	}

}
