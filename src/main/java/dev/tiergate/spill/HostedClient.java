package dev.tiergate.spill;

import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;

import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Calls hosted upstreams with the JDK client, on virtual threads: the request's body with
 * the hosted model name, the operator's key as a bearer token, and for a stream
 * {@code stream_options.include_usage} so that the cost can be settled.
 */
public class HostedClient {

	private final Map<java.time.Duration, HttpClient> clients = new ConcurrentHashMap<>();

	private final JsonMapper json;

	/**
	 * A client.
	 * @param json to rewrite the body
	 */
	public HostedClient(JsonMapper json) {
		this.json = json;
	}

	/**
	 * Starts a POST; the future completes when status and headers have arrived, or fails
	 * after the upstream's timeout. Cancelling it, or closing the body, aborts the call.
	 * @param upstream where to
	 * @param path the OpenAI path, e.g. {@code /v1/chat/completions}
	 * @param body the request body as the caller sent it
	 * @param stream whether the caller asked for server-sent events
	 * @param requestId the id the call carries
	 * @return the answer to come
	 */
	public CompletableFuture<HttpResponse<InputStream>> post(SpillProperties.Upstream upstream, String path,
			byte[] body, boolean stream, String requestId) {
		ObjectNode rewritten = (ObjectNode) this.json.readTree(body);
		rewritten.put("model", upstream.model());
		if (stream) {
			rewritten.putObject("stream_options").put("include_usage", true);
		}
		String base = upstream.baseUri().toString();
		HttpRequest request = HttpRequest
			.newBuilder(
					java.net.URI.create(base.endsWith("/") ? base.substring(0, base.length() - 1) + path : base + path))
			.timeout(upstream.timeout())
			.header("Content-Type", "application/json")
			.header("Accept", stream ? "text/event-stream" : "application/json")
			.header("Authorization", "Bearer " + upstream.apiKey())
			.header("X-Request-Id", requestId)
			.POST(HttpRequest.BodyPublishers.ofByteArray(this.json.writeValueAsBytes(rewritten)))
			.build();
		return client(upstream).sendAsync(request, HttpResponse.BodyHandlers.ofInputStream());
	}

	private HttpClient client(SpillProperties.Upstream upstream) {
		return this.clients.computeIfAbsent(upstream.connectTimeout(),
				(timeout) -> HttpClient.newBuilder()
					.version(HttpClient.Version.HTTP_1_1)
					.connectTimeout(timeout)
					.followRedirects(HttpClient.Redirect.NEVER)
					.executor(Executors.newVirtualThreadPerTaskExecutor())
					.build());
	}

}
