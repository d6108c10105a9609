package dev.tiergate.fleet;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * The HTTP front of {@link KubernetesApiStandIn}: what the official client talks to.
 * <p>
 * Ordinary requests are forwarded to fabric8's mock unchanged (method, path, query,
 * headers, body) and the answer is streamed back with its status and headers. A request
 * with {@code watch=true} (or {@code watch=1}) becomes a WebSocket watch against the
 * mock, because the mock serves watches only over WebSocket while the official client
 * speaks the API server's HTTP watch: a chunked response of newline-delimited JSON
 * events. The front sends {@code 200} and flushes before any event arrives (so the
 * client's call returns), then writes each event as one line and flushes it. It ends the
 * stream when the mock closes the WebSocket, when the watch's {@code timeoutSeconds} has
 * passed (as the API server does) or when the front closes; a client that has gone is
 * noticed at the next write, and the WebSocket is then closed too. The mock opens every
 * watch with all matching objects as {@code ADDED}; those not newer than the
 * {@code resourceVersion} the client watches from are dropped (see {@code alreadySeen}).
 * <p>
 * Threads: the server's dispatcher (stopped on {@link #close()}), one virtual thread per
 * exchange, and the JDK HTTP client's own threads, which are daemon threads and are shut
 * down on close.
 */
final class WatchingFront implements AutoCloseable {

	private static final Pattern WATCH_PARAMETER = Pattern.compile("(^|&)watch=(true|1)(&|$)");

	private static final Pattern TIMEOUT_PARAMETER = Pattern.compile("(?:^|&)timeoutSeconds=(\\d+)(?:&|$)");

	private static final Pattern RESOURCE_VERSION_PARAMETER = Pattern.compile("(?:^|&)resourceVersion=(\\d+)(?:&|$)");

	/**
	 * Headers that belong to one hop (or that the JDK client sets itself) and so are not
	 * copied across.
	 */
	private static final Set<String> HOP_BY_HOP = Set.of("connection", "content-length", "date", "expect", "host",
			"http2-settings", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
			"transfer-encoding", "upgrade");

	private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);

	private final URI upstream;

	private final HttpServer server;

	private final ExecutorService exchanges = Executors.newVirtualThreadPerTaskExecutor();

	private final HttpClient client;

	private final Set<WatchStream> watches = ConcurrentHashMap.newKeySet();

	private volatile boolean closed;

	private WatchingFront(URI upstream, HttpServer server) {
		this.upstream = upstream;
		this.server = server;
		this.client = HttpClient.newBuilder()
			.version(HttpClient.Version.HTTP_1_1)
			.connectTimeout(CONNECT_TIMEOUT)
			.executor(this.exchanges)
			.build();
		server.createContext("/", this::handle);
		server.setExecutor(this.exchanges);
	}

	/**
	 * Starts a front on an ephemeral port of the loopback address.
	 * @param upstream the mock's base URL, {@code http://host:port}
	 * @return the started front
	 * @throws IOException if the port cannot be bound
	 */
	static WatchingFront start(URI upstream) throws IOException {
		HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
		WatchingFront front = new WatchingFront(upstream, server);
		server.start();
		return front;
	}

	/**
	 * The front's base URL.
	 * @return {@code http://127.0.0.1:PORT}
	 */
	String url() {
		InetSocketAddress address = this.server.getAddress();
		return "http://" + address.getAddress().getHostAddress() + ":" + address.getPort();
	}

	/**
	 * How many watch streams are open right now (each one has its WebSocket open against
	 * the mock).
	 * @return the number of open watch streams
	 */
	int openWatches() {
		return this.watches.size();
	}

	private void handle(HttpExchange exchange) throws IOException {
		try (exchange) {
			String query = exchange.getRequestURI().getRawQuery();
			if ("GET".equals(exchange.getRequestMethod()) && query != null && WATCH_PARAMETER.matcher(query).find()) {
				watch(exchange, query);
			}
			else {
				forward(exchange);
			}
		}
		catch (IOException ex) {
			// The client went away mid-answer: nothing left to tell it.
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	private void forward(HttpExchange exchange) throws IOException, InterruptedException {
		byte[] body = exchange.getRequestBody().readAllBytes();
		HttpRequest.Builder request = HttpRequest.newBuilder(upstreamUri("http", exchange.getRequestURI()))
			.method(exchange.getRequestMethod(),
					(body.length != 0) ? BodyPublishers.ofByteArray(body) : BodyPublishers.noBody());
		exchange.getRequestHeaders().forEach((name, values) -> {
			if (!HOP_BY_HOP.contains(name.toLowerCase(Locale.ROOT))) {
				values.forEach((value) -> request.header(name, value));
			}
		});
		HttpResponse<InputStream> response;
		try {
			response = this.client.send(request.build(), BodyHandlers.ofInputStream());
		}
		catch (IOException ex) {
			sendStatus(exchange, 502, "BadGateway", "stand-in front could not reach the mock: " + ex);
			return;
		}
		try (InputStream upstreamBody = response.body()) {
			response.headers().map().forEach((name, values) -> {
				if (!HOP_BY_HOP.contains(name.toLowerCase(Locale.ROOT)) && !name.startsWith(":")) {
					exchange.getResponseHeaders().put(name, values);
				}
			});
			long length = response.headers().firstValueAsLong("content-length").orElse(-1);
			boolean noBody = "HEAD".equals(exchange.getRequestMethod()) || response.statusCode() == 204
					|| response.statusCode() == 304 || length == 0;
			// sendResponseHeaders: -1 means no body, 0 means chunked, n means exactly n
			// bytes.
			exchange.sendResponseHeaders(response.statusCode(), noBody ? -1 : Math.max(length, 0));
			if (!noBody) {
				try (OutputStream out = exchange.getResponseBody()) {
					upstreamBody.transferTo(out);
				}
			}
		}
	}

	private void watch(HttpExchange exchange, String query) throws IOException, InterruptedException {
		WatchStream stream = new WatchStream();
		URI target = upstreamUri("ws", exchange.getRequestURI(),
				WATCH_PARAMETER.matcher(query).replaceFirst((match) -> match.group(1) + "watch=true" + match.group(3)));
		WebSocket socket;
		try {
			socket = this.client.newWebSocketBuilder()
				.connectTimeout(CONNECT_TIMEOUT)
				.buildAsync(target, stream)
				.get(CONNECT_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
		}
		catch (ExecutionException | TimeoutException ex) {
			sendStatus(exchange, 502, "BadGateway", "stand-in front could not open a watch on the mock: " + ex);
			return;
		}
		this.watches.add(stream);
		try {
			if (this.closed) {
				return;
			}
			exchange.getResponseHeaders().set("Content-Type", "application/json");
			exchange.sendResponseHeaders(200, 0);
			OutputStream out = exchange.getResponseBody();
			out.flush();
			long seenVersion = resourceVersion(query);
			long deadline = timeoutSeconds(query).map((seconds) -> System.nanoTime() + seconds * 1_000_000_000L)
				.orElse(Long.MAX_VALUE);
			while (true) {
				long left = deadline - System.nanoTime();
				if (left <= 0) {
					break;
				}
				String event = stream.events.poll(left, TimeUnit.NANOSECONDS);
				if (event == null || event == WatchStream.END) {
					break;
				}
				if (alreadySeen(event, seenVersion)) {
					continue;
				}
				// One event per line: a raw line break in JSON is whitespace (strings
				// escape theirs), so drop it.
				out.write(event.replace("\r", "").replace("\n", "").getBytes(StandardCharsets.UTF_8));
				out.write('\n');
				out.flush();
			}
			out.close();
		}
		finally {
			this.watches.remove(stream);
			socket.abort();
			stream.finished.countDown();
		}
	}

	private URI upstreamUri(String scheme, URI request) {
		return upstreamUri(scheme, request, request.getRawQuery());
	}

	private URI upstreamUri(String scheme, URI request, String rawQuery) {
		return URI.create(scheme + "://" + this.upstream.getRawAuthority() + request.getRawPath()
				+ ((rawQuery != null) ? "?" + rawQuery : ""));
	}

	private static Optional<Long> timeoutSeconds(String query) {
		Matcher matcher = TIMEOUT_PARAMETER.matcher(query);
		return matcher.find() ? Optional.of(Long.parseLong(matcher.group(1))).filter((seconds) -> seconds > 0)
				: Optional.empty();
	}

	private static long resourceVersion(String query) {
		Matcher matcher = RESOURCE_VERSION_PARAMETER.matcher(query);
		return matcher.find() ? Long.parseLong(matcher.group(1)) : 0;
	}

	/**
	 * Whether an event is the mock's replay of an object the client already has. On open,
	 * the mock's watch sends every matching object as {@code ADDED}, whatever
	 * {@code resourceVersion} the client asked to watch from; a real API server sends
	 * only what changed after it. So an {@code ADDED} event for an object whose resource
	 * version is at most the one asked from is dropped. Without this, an informer would
	 * see an update for every object each time its watch (re)opens.
	 * @param event the event as the mock sent it
	 * @param seenVersion the {@code resourceVersion} the client watches from (0 for
	 * "any": nothing is dropped)
	 * @return {@code true} to drop the event
	 */
	private static boolean alreadySeen(String event, long seenVersion) {
		if (seenVersion <= 0) {
			return false;
		}
		try {
			JsonObject watchEvent = JsonParser.parseString(event).getAsJsonObject();
			if (!"ADDED".equals(watchEvent.get("type").getAsString())) {
				return false;
			}
			String version = watchEvent.getAsJsonObject("object")
				.getAsJsonObject("metadata")
				.get("resourceVersion")
				.getAsString();
			return Long.parseLong(version) <= seenVersion;
		}
		catch (RuntimeException ex) {
			// Not shaped as expected: pass it on and let the client judge.
			return false;
		}
	}

	private static void sendStatus(HttpExchange exchange, int code, String reason, String message) throws IOException {
		byte[] body = ("{\"apiVersion\":\"v1\",\"kind\":\"Status\",\"status\":\"Failure\",\"code\":" + code
				+ ",\"reason\":\"" + reason + "\",\"message\":\"" + message.replace("\\", "\\\\").replace("\"", "'")
				+ "\"}")
			.getBytes(StandardCharsets.UTF_8);
		exchange.getResponseHeaders().set("Content-Type", "application/json");
		exchange.sendResponseHeaders(code, body.length);
		try (OutputStream out = exchange.getResponseBody()) {
			out.write(body);
		}
	}

	/**
	 * Ends every watch stream, stops the server and the JDK client, and waits (briefly)
	 * for the exchange threads.
	 */
	@Override
	public void close() {
		this.closed = true;
		this.watches.forEach(WatchStream::end);
		// Let ended watches finish their chunked answers (a second at most), then drop
		// every connection.
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
		try {
			for (WatchStream watch : this.watches) {
				watch.finished.await(Math.max(deadline - System.nanoTime(), 0), TimeUnit.NANOSECONDS);
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		this.server.stop(0);
		this.client.shutdownNow();
		this.exchanges.shutdownNow();
		try {
			this.exchanges.awaitTermination(5, TimeUnit.SECONDS);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	/**
	 * One watch: receives the mock's WebSocket messages (each a whole watch event) and
	 * queues them for the exchange.
	 */
	private static final class WatchStream implements WebSocket.Listener {

		/** Marks the end of the stream; compared by identity. */
		@SuppressWarnings("StringOperationCanBeSimplified")
		static final String END = new String("<end>");

		final BlockingQueue<String> events = new LinkedBlockingQueue<>();

		final CountDownLatch finished = new CountDownLatch(1);

		private final StringBuilder text = new StringBuilder();

		private final ByteArrayOutputStream binary = new ByteArrayOutputStream();

		@Override
		public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
			this.text.append(data);
			if (last) {
				this.events.add(this.text.toString());
				this.text.setLength(0);
			}
			webSocket.request(1);
			return null;
		}

		@Override
		public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
			byte[] bytes = new byte[data.remaining()];
			data.get(bytes);
			this.binary.writeBytes(bytes);
			if (last) {
				this.events.add(this.binary.toString(StandardCharsets.UTF_8));
				this.binary.reset();
			}
			webSocket.request(1);
			return null;
		}

		@Override
		public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
			end();
			return null;
		}

		@Override
		public void onError(WebSocket webSocket, Throwable error) {
			end();
		}

		void end() {
			this.events.add(END);
		}

	}

}
