package dev.tiergate.proxy;

import java.io.IOException;
import java.io.OutputStream;

import jakarta.servlet.http.HttpServletResponse;

/**
 * An {@link AnswerSink} on the HTTP response of an online request: a whole answer with
 * its length, or server-sent events that no proxy in between may buffer.
 */
final class ServletAnswerSink implements AnswerSink {

	private final HttpServletResponse response;

	private final Runnable onBegin;

	private OutputStream out;

	/**
	 * A sink that tells when the answer begins.
	 * @param response the response
	 * @param onBegin runs before anything is written
	 */
	ServletAnswerSink(HttpServletResponse response, Runnable onBegin) {
		this.response = response;
		this.onBegin = onBegin;
	}

	@Override
	public OutputStream begin(int status, String contentType, long contentLength) throws IOException {
		this.onBegin.run();
		this.response.setStatus(status);
		this.response.setContentType(contentType);
		if (contentLength >= 0) {
			this.response.setContentLengthLong(contentLength);
		}
		else {
			this.response.setHeader("Cache-Control", "no-cache");
			this.response.setHeader("X-Accel-Buffering", "no");
		}
		this.out = this.response.getOutputStream();
		return this.out;
	}

	/** Sets a header of the answer; ignored once the answer has begun. */
	void header(String name, String value) {
		this.response.setHeader(name, value);
	}

	@Override
	public void flush() throws IOException {
		this.out.flush();
	}

}
