package dev.tiergate.proxy;

import java.io.IOException;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;

/**
 * Whether an online request's client is still connected, asked while the request waits
 * for a slot and while its answer is computed (a servlet container tells nothing of a
 * client that leaves while no I/O is pending, with or without an {@code AsyncListener}).
 * <p>
 * Once the body has been read, the request is put in servlet async mode with a
 * {@link ReadListener}; from then on {@link ServletInputStream#available()} makes a
 * non-blocking read of the connection, and a client that has closed or reset it shows as
 * bytes available past a finished body (Tomcat reports the end of stream or the error
 * that way, so that the next read meets it). As with Go's {@code net/http}, a client that
 * half-closes its side, or pipelines another request while it waits, counts as gone:
 * neither is done by HTTP clients that wait for their answer. The serving thread keeps
 * working synchronously; {@link #complete()} ends the async cycle when the request ends.
 */
final class ClientConnection implements ReadListener {

	private static final ClientConnection UNKNOWN = new ClientConnection(null, null);

	private final AsyncContext async;

	private final ServletInputStream in;

	private volatile boolean failed;

	private boolean answering;

	private boolean completed;

	private ClientConnection(AsyncContext async, ServletInputStream in) {
		this.async = async;
		this.in = in;
	}

	/**
	 * Starts watching a request whose body has been read.
	 * @param request the request
	 * @return its connection; one that is never seen to go when the container cannot
	 * watch it (no async support, as in mock requests)
	 */
	static ClientConnection watch(HttpServletRequest request) {
		if (!request.isAsyncSupported()) {
			return UNKNOWN;
		}
		AsyncContext async = request.startAsync();
		async.setTimeout(0);
		try {
			ServletInputStream in = request.getInputStream();
			ClientConnection connection = new ClientConnection(async, in);
			in.setReadListener(connection);
			return connection;
		}
		catch (IOException | RuntimeException ex) {
			async.complete();
			return UNKNOWN;
		}
	}

	/**
	 * Whether the client has gone. Makes one non-blocking read attempt; answers
	 * {@code false} once the answer has begun (writes find out then).
	 * @return {@code true} when the connection is closed or broken
	 */
	synchronized boolean gone() {
		if (this.in == null || this.answering || this.completed) {
			return false;
		}
		if (this.failed) {
			return true;
		}
		try {
			return this.in.available() > 0;
		}
		catch (IOException | IllegalStateException ex) {
			return true;
		}
	}

	/**
	 * The answer begins: no more probing, the serving thread writes from now on. Waits
	 * for a probe in progress.
	 */
	synchronized void answering() {
		this.answering = true;
	}

	/**
	 * Whether the request is in async mode, so that it can be served on another thread.
	 * @return {@code false} when the container cannot watch it
	 */
	boolean async() {
		return this.async != null;
	}

	/**
	 * Adds a listener to the request's async cycle.
	 * @param listener the listener
	 */
	void addListener(AsyncListener listener) {
		this.async.addListener(listener);
	}

	/**
	 * Ends the async cycle (the container completes the response once the serving thread
	 * returns). Safe to call more than once.
	 */
	synchronized void complete() {
		if (this.async != null && !this.completed) {
			this.completed = true;
			this.async.complete();
		}
	}

	@Override
	public void onDataAvailable() {
		// The body was read before watching; nothing more is expected.
	}

	@Override
	public void onAllDataRead() {
		// Nothing to do.
	}

	@Override
	public void onError(Throwable failure) {
		this.failed = true;
	}

}
