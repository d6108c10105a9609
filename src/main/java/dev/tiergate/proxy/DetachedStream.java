package dev.tiergate.proxy;

import java.io.IOException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.http.HttpServletRequest;

/**
 * A streamed request served to its end on a virtual thread of its own, once the servlet
 * container's thread that took it has returned (the servlet's async way). A held stream
 * then parks 26 frames deep instead of about 54: the container's frames, the filters' and
 * the servlet's are gone from its stack, about 8 KiB of heap per held stream (62 KiB
 * instead of 70, docs/benchmarks.md).
 * <p>
 * The request was put in async mode when its client began to be watched
 * ({@link ClientConnection#watch}); the quota settlement ({@link QuotaPermits}) ends the
 * permit when the filter's call returns, which is now before the stream ends, so it hands
 * its settlement here ({@link #settleWhenServed}) and whichever of the two comes second,
 * the filter's return or the stream's end, settles and then completes the async cycle.
 * Nothing of the request is used after that. When a write to the client fails on the
 * serving thread, the container handles the error on a thread of its own and, unless a
 * listener completes the request, dispatches to its error page and recycles the request
 * under the serving thread's feet: {@link #onError} holds the container's thread until
 * the stream has been settled and completed (the serving thread, whose own write failed,
 * is by then on its way out), at most {@link #ERROR_WAIT_SECONDS}.
 */
final class DetachedStream implements AsyncListener {

	private static final Logger logger = LoggerFactory.getLogger(DetachedStream.class);

	private static final String ATTRIBUTE = DetachedStream.class.getName();

	/** Longest the container's error handling waits for the serving thread's end. */
	static final long ERROR_WAIT_SECONDS = 30;

	private static final ThreadFactory THREADS = Thread.ofVirtual()
		.name("tiergate-stream-", 0)
		.inheritInheritableThreadLocals(false)
		.factory();

	private final ClientConnection client;

	private final Runnable closed;

	private final CountDownLatch ended = new CountDownLatch(1);

	/** The filter's settlement once the filter has returned; guarded by this. */
	private Runnable settle;

	/** Whether the serving thread is done; guarded by this. */
	private boolean served;

	private DetachedStream(ClientConnection client, Runnable closed) {
		this.client = client;
		this.closed = closed;
	}

	/**
	 * Serves a request on a thread of its own; the caller returns to the container.
	 * @param request the request, in async mode since its client is watched
	 * @param client its client's connection (one that {@link ClientConnection#async()})
	 * @param serve what serves it
	 * @param failed answers what {@code serve} throws, when it is not yet answered
	 * @param closed runs once served, before the settlement
	 */
	static void start(HttpServletRequest request, ClientConnection client, Serving serve, Completions.Failed failed,
			Runnable closed) {
		DetachedStream stream = new DetachedStream(client, closed);
		THREADS.newThread(() -> stream.run(serve, failed)).start();
		// Only once its thread runs, so that a request whose thread could not start is
		// answered and settled as any other. Neither comes too late: the container
		// handles nothing else of this request (an error of the serving thread's
		// included) before this thread has returned, and the filter reads the attribute
		// as it returns.
		client.addListener(stream);
		request.setAttribute(ATTRIBUTE, stream);
	}

	/**
	 * The detached stream of a request, for the filter whose settlement must wait for its
	 * end.
	 * @param request the request
	 * @return its detached stream, or {@code null} when it was served on the container's
	 * thread
	 */
	static DetachedStream of(HttpServletRequest request) {
		return (request.getAttribute(ATTRIBUTE) instanceof DetachedStream stream) ? stream : null;
	}

	private void run(Serving serve, Completions.Failed failed) {
		try {
			serve.serve();
		}
		catch (Exception ex) {
			try {
				failed.answer(ex);
			}
			catch (IOException | RuntimeException answering) {
				logger.debug("Could not answer a detached stream's failure: {}", answering.toString());
			}
		}
		finally {
			try {
				this.closed.run();
			}
			finally {
				served();
			}
		}
	}

	/**
	 * The filter has returned: settles now when the stream has ended, else when it ends.
	 * Called once, on the container's thread that took the request.
	 * @param settlement the settlement
	 */
	void settleWhenServed(Runnable settlement) {
		boolean now;
		synchronized (this) {
			now = this.served;
			if (!now) {
				this.settle = settlement;
			}
		}
		if (now) {
			finish(settlement);
		}
	}

	private void served() {
		Runnable settlement;
		synchronized (this) {
			this.served = true;
			settlement = this.settle;
		}
		if (settlement != null) {
			finish(settlement);
		}
	}

	private void finish(Runnable settlement) {
		try {
			settlement.run();
		}
		finally {
			try {
				this.client.complete();
			}
			catch (IllegalStateException ex) {
				// The container gave up waiting (onError) and completed it itself.
				logger.debug("A detached stream was completed by the container: {}", ex.toString());
			}
			finally {
				this.ended.countDown();
			}
		}
	}

	@Override
	public void onError(AsyncEvent event) {
		try {
			if (!this.ended.await(ERROR_WAIT_SECONDS, TimeUnit.SECONDS)) {
				logger.warn("A stream's serving thread did not end within {} s of its client's connection failing",
						ERROR_WAIT_SECONDS);
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	@Override
	public void onComplete(AsyncEvent event) {
		// Nothing: the stream completed it.
	}

	@Override
	public void onTimeout(AsyncEvent event) {
		// None: the watch sets no timeout.
	}

	@Override
	public void onStartAsync(AsyncEvent event) {
		// Not restarted.
	}

	/** What serves a detached request. */
	@FunctionalInterface
	interface Serving {

		void serve() throws IOException, InterruptedException;

	}

}
