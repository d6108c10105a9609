package dev.tiergate.proxy;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;

/**
 * Calls inference endpoints over HTTP/1.1: the JDK's client (the default) or
 * {@link PooledHttp1Client} ({@code tiergate.proxy.upstream-client=pooled}).
 */
interface UpstreamClient extends AutoCloseable {

	/**
	 * Prepares a POST of a JSON body; nothing is sent before {@link Call#execute()}.
	 * @param uri the endpoint's URI
	 * @param body the body
	 * @param stream whether a server-sent event stream is asked for
	 * @param requestId the request's id, sent as {@code X-Request-Id}
	 * @return the call
	 */
	Call post(URI uri, byte[] body, boolean stream, String requestId);

	@Override
	void close();

	/** One call: executed once, by the thread that waits for it; cancelled from any. */
	interface Call {

		/**
		 * Sends the request and waits for the status and headers.
		 * @return the answer, whose body the caller must close
		 * @throws CallCancelledException if {@link #cancel()} was called
		 * @throws IOException if the call failed before the answer's head arrived
		 * @throws InterruptedException if the waiting thread was interrupted
		 */
		Answer execute() throws IOException, InterruptedException;

		/** Aborts the call: a pending {@link #execute()} throws, an open body fails. */
		void cancel();

	}

	/**
	 * An answer's head and its body.
	 *
	 * @param status the HTTP status
	 * @param contentType its {@code Content-Type}, or {@code null}
	 * @param body the body, to be closed by the caller
	 * @param contentLength the body's {@code Content-Length}, or {@code -1} when it has
	 * none (chunked, or until the connection closes)
	 */
	record Answer(int status, String contentType, InputStream body, long contentLength) {

		Answer(int status, String contentType, InputStream body) {
			this(status, contentType, body, -1);
		}

	}

	/** The call was cancelled. */
	final class CallCancelledException extends IOException {

		CallCancelledException() {
			super("call cancelled");
		}

	}

	/**
	 * The JDK's {@link HttpClient} (HTTP/1.1, on virtual threads).
	 */
	final class Jdk implements UpstreamClient {

		private final HttpClient http;

		private final ProxyProperties properties;

		Jdk(ProxyProperties properties) {
			this.properties = properties;
			this.http = HttpClient.newBuilder()
				.version(HttpClient.Version.HTTP_1_1)
				.connectTimeout(properties.upstreamConnectTimeout())
				.followRedirects(HttpClient.Redirect.NEVER)
				.executor(Executors.newVirtualThreadPerTaskExecutor())
				.build();
		}

		@Override
		public Call post(URI uri, byte[] body, boolean stream, String requestId) {
			HttpRequest request = HttpRequest.newBuilder(uri)
				.timeout(this.properties.upstreamTimeout())
				.header("Content-Type", "application/json")
				.header("Accept", stream ? "text/event-stream" : "application/json")
				.header("X-Request-Id", requestId)
				.POST(HttpRequest.BodyPublishers.ofByteArray(body))
				.build();
			return new Call() {

				private volatile CompletableFuture<HttpResponse<InputStream>> future;

				private volatile boolean cancelled;

				@Override
				public Answer execute() throws IOException, InterruptedException {
					CompletableFuture<HttpResponse<InputStream>> call = Jdk.this.http.sendAsync(request,
							HttpResponse.BodyHandlers.ofInputStream());
					this.future = call;
					if (this.cancelled) {
						call.cancel(true);
					}
					try {
						HttpResponse<InputStream> response = call.get();
						return new Answer(response.statusCode(),
								response.headers().firstValue("Content-Type").orElse(null), response.body(),
								response.headers().firstValueAsLong("Content-Length").orElse(-1));
					}
					catch (CancellationException ex) {
						throw new CallCancelledException();
					}
					catch (ExecutionException ex) {
						if (this.cancelled) {
							throw new CallCancelledException();
						}
						Throwable cause = (ex.getCause() != null) ? ex.getCause() : ex;
						throw (cause instanceof IOException io) ? io : new IOException(cause.toString(), cause);
					}
				}

				@Override
				public void cancel() {
					this.cancelled = true;
					CompletableFuture<HttpResponse<InputStream>> call = this.future;
					if (call != null) {
						call.cancel(true);
					}
				}

			};
		}

		@Override
		public void close() {
			this.http.close();
		}

	}

}
