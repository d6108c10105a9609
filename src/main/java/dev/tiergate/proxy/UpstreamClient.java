package dev.tiergate.proxy;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;

/**
 * Calls inference endpoints over HTTP/1.1 with the JDK client, on virtual threads.
 */
class UpstreamClient {

	private final HttpClient http;

	private final ProxyProperties properties;

	UpstreamClient(ProxyProperties properties) {
		this.properties = properties;
		this.http = HttpClient.newBuilder()
			.version(HttpClient.Version.HTTP_1_1)
			.connectTimeout(properties.upstreamConnectTimeout())
			.followRedirects(HttpClient.Redirect.NEVER)
			.executor(Executors.newVirtualThreadPerTaskExecutor())
			.build();
	}

	/**
	 * Starts a POST; the future completes when status and headers have arrived.
	 * Cancelling the future, or closing the body stream, aborts the exchange.
	 */
	CompletableFuture<HttpResponse<InputStream>> post(URI uri, byte[] body, boolean stream, String requestId) {
		HttpRequest request = HttpRequest.newBuilder(uri)
			.timeout(this.properties.upstreamTimeout())
			.header("Content-Type", "application/json")
			.header("Accept", stream ? "text/event-stream" : "application/json")
			.header("X-Request-Id", requestId)
			.POST(HttpRequest.BodyPublishers.ofByteArray(body))
			.build();
		return this.http.sendAsync(request, HttpResponse.BodyHandlers.ofInputStream());
	}

}
