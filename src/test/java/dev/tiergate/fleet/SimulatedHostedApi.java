package dev.tiergate.fleet;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A simulated hosted, OpenAI-compatible API (the kind Tiergate spills to), listening on
 * 127.0.0.1: {@code POST /v1/chat/completions} and {@code POST /v1/completions}, JSON or
 * server-sent events with a final {@code usage} event when
 * {@code stream_options.include_usage} is set, after a fixed latency. It checks the
 * bearer key (401 in OpenAI's shape otherwise), allows a number of requests per second
 * (429 {@code rate_limit_exceeded} with {@code Retry-After} beyond), and can be told to
 * answer the next requests with an error status or to hang. Prompt tokens are characters
 * / 4; it generates {@code max_tokens} tokens (default 16). Thread-safe.
 */
public final class SimulatedHostedApi implements AutoCloseable {

	private static final JsonMapper json = JsonMapper.builder().build();

	private final String apiKey;

	private final HttpServer server;

	private final List<JsonNode> received = new CopyOnWriteArrayList<>();

	private final List<String> authorizations = new CopyOnWriteArrayList<>();

	private final AtomicInteger failNext = new AtomicInteger();

	private volatile int failStatus;

	private volatile Duration latency = Duration.ZERO;

	private volatile Duration hang = Duration.ZERO;

	private volatile int perSecond = Integer.MAX_VALUE;

	private final AtomicLong window = new AtomicLong();

	private final AtomicInteger inWindow = new AtomicInteger();

	private final AtomicInteger handling = new AtomicInteger();

	/**
	 * Starts the API on a free port.
	 * @param apiKey the only key it accepts
	 * @throws IOException if it cannot listen
	 */
	public SimulatedHostedApi(String apiKey) throws IOException {
		this.apiKey = apiKey;
		this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
		this.server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
		this.server.createContext("/v1/", this::handle);
		this.server.start();
	}

	/**
	 * Where it listens.
	 * @return e.g. {@code http://127.0.0.1:41234}
	 */
	public URI baseUri() {
		return URI.create("http://127.0.0.1:" + this.server.getAddress().getPort());
	}

	/**
	 * Answers the next requests with an OpenAI-shaped error.
	 * @param requests how many
	 * @param status e.g. 429 or 500
	 */
	public void failNext(int requests, int status) {
		this.failStatus = status;
		this.failNext.set(requests);
	}

	/**
	 * Sets how long each answer takes before its headers.
	 * @param latency the latency
	 */
	public void latency(Duration latency) {
		this.latency = latency;
	}

	/**
	 * Makes every request wait this long before anything is sent (a timeout test).
	 * @param hang how long
	 */
	public void hang(Duration hang) {
		this.hang = hang;
	}

	/**
	 * Limits requests per second; more get 429.
	 * @param perSecond the limit
	 */
	public void rateLimit(int perSecond) {
		this.perSecond = perSecond;
	}

	/**
	 * The only key it accepts.
	 * @return the key
	 */
	public String apiKey() {
		return this.apiKey;
	}

	/**
	 * The bodies received, as sent by the caller.
	 * @return the bodies
	 */
	public List<JsonNode> received() {
		return List.copyOf(this.received);
	}

	/**
	 * Requests being answered now (a hung one counts until it wakes and answers, even
	 * when its caller has given up).
	 * @return requests in progress
	 */
	public int handling() {
		return this.handling.get();
	}

	/**
	 * The {@code Authorization} headers received.
	 * @return the headers
	 */
	public List<String> authorizations() {
		return List.copyOf(this.authorizations);
	}

	private void handle(HttpExchange exchange) throws IOException {
		this.handling.incrementAndGet();
		try (exchange) {
			byte[] raw = exchange.getRequestBody().readAllBytes();
			String authorization = exchange.getRequestHeaders().getFirst("Authorization");
			this.authorizations.add(String.valueOf(authorization));
			if (!("Bearer " + this.apiKey).equals(authorization)) {
				error(exchange, 401, "invalid_request_error", "invalid_api_key", "Incorrect API key provided.");
				return;
			}
			JsonNode body = json.readTree(raw);
			this.received.add(body);
			sleep(this.hang);
			if (this.failNext.getAndUpdate((n) -> Math.max(0, n - 1)) > 0) {
				int status = this.failStatus;
				if (status == 429) {
					exchange.getResponseHeaders().add("Retry-After", "1");
					error(exchange, 429, "requests", "rate_limit_exceeded", "Rate limit reached.");
				}
				else {
					error(exchange, status, "server_error", null, "The server had an error.");
				}
				return;
			}
			if (!admit()) {
				exchange.getResponseHeaders().add("Retry-After", "1");
				error(exchange, 429, "requests", "rate_limit_exceeded", "Rate limit reached.");
				return;
			}
			sleep(this.latency);
			answer(exchange, body);
		}
		finally {
			this.handling.decrementAndGet();
		}
	}

	private boolean admit() {
		long second = System.nanoTime() / 1_000_000_000L;
		if (this.window.getAndSet(second) != second) {
			this.inWindow.set(0);
		}
		return this.inWindow.incrementAndGet() <= this.perSecond;
	}

	private static void answer(HttpExchange exchange, JsonNode body) throws IOException {
		String model = body.path("model").asString("");
		int maxTokens = body.path("max_tokens").asInt(16);
		long prompt = Math.max(1, body.toString().length() / 4);
		String id = "chatcmpl-hosted-" + System.nanoTime();
		if (body.path("stream").asBoolean(false)) {
			exchange.getResponseHeaders().add("Content-Type", "text/event-stream");
			exchange.sendResponseHeaders(200, 0);
			OutputStream out = exchange.getResponseBody();
			for (int i = 0; i < maxTokens; i++) {
				write(out,
						"data: {\"id\":\"" + id + "\",\"object\":\"chat.completion.chunk\",\"model\":\"" + model
								+ "\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"tok \"},\"finish_reason\":"
								+ ((i == maxTokens - 1) ? "\"length\"" : "null") + "}]}\n\n");
			}
			if (body.path("stream_options").path("include_usage").asBoolean(false)) {
				write(out,
						"data: {\"id\":\"" + id + "\",\"object\":\"chat.completion.chunk\",\"model\":\"" + model
								+ "\",\"choices\":[],\"usage\":{\"prompt_tokens\":" + prompt + ",\"completion_tokens\":"
								+ maxTokens + ",\"total_tokens\":" + (prompt + maxTokens) + "}}\n\n");
			}
			write(out, "data: [DONE]\n\n");
			return;
		}
		byte[] answer = ("{\"id\":\"" + id + "\",\"object\":\"chat.completion\",\"model\":\"" + model
				+ "\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\""
				+ "tok ".repeat(maxTokens).strip() + "\"},\"finish_reason\":\"length\"}],\"usage\":{\"prompt_tokens\":"
				+ prompt + ",\"completion_tokens\":" + maxTokens + ",\"total_tokens\":" + (prompt + maxTokens) + "}}")
			.getBytes(StandardCharsets.UTF_8);
		exchange.getResponseHeaders().add("Content-Type", "application/json");
		exchange.sendResponseHeaders(200, answer.length);
		exchange.getResponseBody().write(answer);
	}

	private static void write(OutputStream out, String event) throws IOException {
		out.write(event.getBytes(StandardCharsets.UTF_8));
		out.flush();
	}

	private static void error(HttpExchange exchange, int status, String type, String code, String message)
			throws IOException {
		byte[] body = ("{\"error\":{\"message\":\"" + message + "\",\"type\":\"" + type + "\",\"param\":null,\"code\":"
				+ ((code != null) ? "\"" + code + "\"" : "null") + "}}")
			.getBytes(StandardCharsets.UTF_8);
		exchange.getResponseHeaders().add("Content-Type", "application/json");
		exchange.sendResponseHeaders(status, body.length);
		exchange.getResponseBody().write(body);
	}

	private static void sleep(Duration duration) {
		if (!duration.isZero()) {
			try {
				Thread.sleep(duration);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}
	}

	@Override
	public void close() {
		this.server.stop(0);
	}

}
