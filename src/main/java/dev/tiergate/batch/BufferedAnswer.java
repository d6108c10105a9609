package dev.tiergate.batch;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;

import dev.tiergate.proxy.AnswerSink;

/**
 * The {@link AnswerSink} of a batch item: keeps the whole answer, its status and content
 * type, for the result line.
 */
final class BufferedAnswer implements AnswerSink {

	private final ByteArrayOutputStream body = new ByteArrayOutputStream();

	private int status;

	@Override
	public OutputStream begin(int status, String contentType, long contentLength) {
		this.status = status;
		this.body.reset();
		return this.body;
	}

	@Override
	public void flush() {
		// kept in memory
	}

	int status() {
		return this.status;
	}

	byte[] body() {
		return this.body.toByteArray();
	}

}
