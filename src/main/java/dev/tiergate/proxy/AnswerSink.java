package dev.tiergate.proxy;

import java.io.IOException;
import java.io.OutputStream;

/**
 * Where an {@link UpstreamExchange} writes the answer it copies: the HTTP response of an
 * online request, or a buffer for a batch item. Nothing is written before {@link #begin}.
 */
public interface AnswerSink {

	/**
	 * Starts the answer.
	 * @param status the upstream's HTTP status
	 * @param contentType its content type
	 * @param contentLength the body's length, or {@code -1} for a stream of events
	 * @return where the body goes
	 * @throws IOException if the receiver has gone
	 */
	OutputStream begin(int status, String contentType, long contentLength) throws IOException;

	/**
	 * Pushes what was written so far to the receiver (one server-sent event, or the whole
	 * answer).
	 * @throws IOException if the receiver has gone
	 */
	void flush() throws IOException;

}
