package dev.tiergate.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * An OpenAI-compatible server for the streaming scenario of {@code bench/run.sh}: every
 * chat completion streams a fixed number of tokens at a fixed pace (100 tokens at 50
 * tokens/s by default), whatever the load, so that the time to first byte and the memory
 * of many held streams measure the proxy in front of it, not a GPU model. A first event
 * (the role) goes out with the headers, as vLLM's does; then one event per token, then
 * {@code [DONE]}. No limit on concurrent streams; {@code /metrics} reports the running
 * streams as {@code vllm:num_requests_running}, so Tiergate's scraper reads it as it
 * reads vLLM. Each exchange runs on a virtual thread that sleeps between tokens.
 */
final class PacedStreamServer implements AutoCloseable {

	private final String model;

	private final int tokens;

	private final long intervalNanos;

	private final AtomicInteger running = new AtomicInteger();

	private final HttpServer http;

	private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();

	PacedStreamServer(String model, int tokens, double tokensPerSecond) throws IOException {
		this.model = model;
		this.tokens = tokens;
		this.intervalNanos = (long) (1_000_000_000L / tokensPerSecond);
		this.http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4096);
		this.http.setExecutor(this.executor);
		this.http.createContext("/", this::handle);
		this.http.start();
	}

	int port() {
		return this.http.getAddress().getPort();
	}

	private void handle(HttpExchange exchange) throws IOException {
		try (exchange) {
			String path = exchange.getRequestURI().getPath();
			try (InputStream in = exchange.getRequestBody()) {
				in.transferTo(OutputStream.nullOutputStream());
			}
			switch (path) {
				case "/health" -> send(exchange, 200, "text/plain", new byte[0]);
				case "/metrics" -> send(exchange, 200, "text/plain; version=0.0.4",
						("vllm:num_requests_running{model_name=\"" + this.model + "\"} " + this.running.get()
								+ "\nvllm:num_requests_waiting{model_name=\"" + this.model
								+ "\"} 0\nvllm:gpu_cache_usage_perc{model_name=\"" + this.model + "\"} 0.1\n")
							.getBytes(StandardCharsets.UTF_8));
				case "/v1/models" -> send(exchange, 200, "application/json",
						("{\"object\":\"list\",\"data\":[{\"id\":\"" + this.model
								+ "\",\"object\":\"model\",\"owned_by\":\"bench\",\"max_model_len\":8192}]}")
							.getBytes(StandardCharsets.UTF_8));
				case "/v1/chat/completions" -> stream(exchange);
				default -> send(exchange, 404, "application/json",
						"{\"error\":{\"message\":\"not found\"}}".getBytes(StandardCharsets.UTF_8));
			}
		}
	}

	private void stream(HttpExchange exchange) throws IOException {
		this.running.incrementAndGet();
		try {
			exchange.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
			exchange.sendResponseHeaders(200, 0);
			OutputStream out = exchange.getResponseBody();
			String id = "chatcmpl-bench" + System.nanoTime();
			String head = "data: {\"id\":\"" + id + "\",\"object\":\"chat.completion.chunk\",\"model\":\"" + this.model
					+ "\",\"choices\":[{\"index\":0,\"delta\":";
			out.write((head + "{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n")
				.getBytes(StandardCharsets.UTF_8));
			out.flush();
			byte[] token = (head + "{\"content\":\" tok\"},\"finish_reason\":null}]}\n\n")
				.getBytes(StandardCharsets.UTF_8);
			long next = System.nanoTime();
			for (int i = 0; i < this.tokens; i++) {
				next += this.intervalNanos;
				long wait = next - System.nanoTime();
				if (wait > 0) {
					Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
				}
				out.write(token);
				out.flush();
			}
			out.write((head + "{},\"finish_reason\":\"length\"}],\"usage\":{\"prompt_tokens\":8,\"completion_tokens\":"
					+ this.tokens + ",\"total_tokens\":" + (this.tokens + 8) + "}}\n\ndata: [DONE]\n\n")
				.getBytes(StandardCharsets.UTF_8));
			out.flush();
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		catch (IOException ex) {
			// The client left: nothing to finish.
		}
		finally {
			this.running.decrementAndGet();
		}
	}

	private static void send(HttpExchange exchange, int status, String type, byte[] body) throws IOException {
		exchange.getResponseHeaders().set("Content-Type", type);
		exchange.sendResponseHeaders(status, (body.length == 0) ? -1 : body.length);
		if (body.length > 0) {
			exchange.getResponseBody().write(body);
		}
	}

	@Override
	public void close() {
		this.http.stop(0);
		this.executor.shutdownNow();
	}

}
