package dev.tiergate.proxy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The pooled HTTP/1.1 client against a real HTTP server (the JDK's) and, for the cases
 * that server cannot produce, a raw socket server: framing by length, chunks and close;
 * keep-alive reuse; a connection the server closed while idle; cancellation of a blocked
 * call; timeouts.
 */
@Timeout(60)
class PooledHttp1ClientTests {

	private HttpServer server;

	private ExecutorService executor;

	private final Set<Integer> clientPorts = ConcurrentHashMap.newKeySet();

	private final AtomicInteger requests = new AtomicInteger();

	private volatile CountDownLatch release = new CountDownLatch(0);

	private PooledHttp1Client client;

	@BeforeEach
	void start() throws IOException {
		this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
		this.executor = Executors.newVirtualThreadPerTaskExecutor();
		this.server.setExecutor(this.executor);
		this.server.createContext("/", this::handle);
		this.server.start();
		this.client = new PooledHttp1Client(Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(4), 16);
	}

	@AfterEach
	void stop() {
		this.client.close();
		this.server.stop(0);
		this.executor.shutdownNow();
	}

	private void handle(HttpExchange exchange) throws IOException {
		this.requests.incrementAndGet();
		this.clientPorts.add(exchange.getRemoteAddress().getPort());
		byte[] body;
		try (InputStream in = exchange.getRequestBody()) {
			body = in.readAllBytes();
		}
		String path = exchange.getRequestURI().getPath();
		exchange.getResponseHeaders().set("X-Request-Id-Seen", exchange.getRequestHeaders().getFirst("X-Request-Id"));
		switch (path) {
			case "/echo" -> {
				exchange.getResponseHeaders().set("Content-Type", "application/json");
				exchange.sendResponseHeaders(200, body.length);
				exchange.getResponseBody().write(body);
			}
			case "/stream" -> {
				exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
				exchange.sendResponseHeaders(200, 0);
				OutputStream out = exchange.getResponseBody();
				out.write("data: first\n\n".getBytes(StandardCharsets.UTF_8));
				out.flush();
				try {
					this.release.await(10, TimeUnit.SECONDS);
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
				}
				out.write("data: second\n\ndata: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
			}
			case "/error" -> {
				byte[] error = "{\"error\":\"boom\"}".getBytes(StandardCharsets.UTF_8);
				exchange.getResponseHeaders().set("Content-Type", "application/json");
				exchange.sendResponseHeaders(500, error.length);
				exchange.getResponseBody().write(error);
			}
			case "/slow" -> {
				try {
					this.release.await(10, TimeUnit.SECONDS);
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
				}
				exchange.sendResponseHeaders(204, -1);
			}
			default -> exchange.sendResponseHeaders(404, -1);
		}
		exchange.close();
	}

	private URI uri(String path) {
		return URI.create("http://127.0.0.1:" + this.server.getAddress().getPort() + path);
	}

	private static String read(UpstreamClient.Answer answer) throws IOException {
		try (InputStream in = answer.body()) {
			return new String(in.readAllBytes(), StandardCharsets.UTF_8);
		}
	}

	@Test
	void sendsTheBodyAndReadsAnAnswerFramedByItsLength() throws Exception {
		byte[] body = "{\"model\":\"m\",\"messages\":[]}".getBytes(StandardCharsets.UTF_8);
		UpstreamClient.Answer answer = this.client.post(uri("/echo"), body, false, "req-1").execute();
		assertThat(answer.status()).isEqualTo(200);
		assertThat(answer.contentType()).isEqualTo("application/json");
		assertThat(answer.contentLength()).as("read into one array of this size").isEqualTo(body.length);
		assertThat(read(answer)).isEqualTo("{\"model\":\"m\",\"messages\":[]}");
	}

	@Test
	void keepsOneConnectionForCallsOneAfterAnother() throws Exception {
		for (int i = 0; i < 20; i++) {
			UpstreamClient.Answer answer = this.client
				.post(uri("/echo"), ("{\"i\":" + i + "}").getBytes(StandardCharsets.UTF_8), false, "r" + i)
				.execute();
			assertThat(read(answer)).isEqualTo("{\"i\":" + i + "}");
		}
		assertThat(this.requests.get()).isEqualTo(20);
		assertThat(this.clientPorts).as("one connection, reused").hasSize(1);
		assertThat(this.client.idleConnections()).isEqualTo(1);
	}

	@Test
	void readsAChunkedStreamEventByEventBeforeItEnds() throws Exception {
		this.release = new CountDownLatch(1);
		UpstreamClient.Answer answer = this.client.post(uri("/stream"), "{}".getBytes(), true, "s").execute();
		assertThat(answer.contentType()).isEqualTo("text/event-stream");
		assertThat(answer.contentLength()).as("chunked: no length").isEqualTo(-1);
		InputStream in = answer.body();
		byte[] buffer = new byte[8192];
		int n = in.read(buffer);
		assertThat(new String(buffer, 0, n, StandardCharsets.UTF_8)).as("the first event, while the server waits")
			.isEqualTo("data: first\n\n");
		this.release.countDown();
		String rest = new String(in.readAllBytes(), StandardCharsets.UTF_8);
		assertThat(rest).isEqualTo("data: second\n\ndata: [DONE]\n\n");
		in.close();
		assertThat(this.client.idleConnections()).as("read to its end: back in the pool").isEqualTo(1);
	}

	@Test
	void lendsAChunkedStreamFromItsConnectionBufferAndPoolsTheConnectionAtItsEnd() throws Exception {
		this.release = new CountDownLatch(1);
		UpstreamClient.Answer answer = this.client.post(uri("/stream"), "{}".getBytes(), true, "s").execute();
		LendingInput in = (LendingInput) answer.body();
		StringBuilder lent = new StringBuilder();
		LendingInput.Borrower borrower = (bytes, offset, length) -> lent
			.append(new String(bytes, offset, length, StandardCharsets.UTF_8));
		assertThat(in.await()).isTrue();
		assertThat(lent).as("waiting takes nothing").isEmpty();
		assertThat(in.lendTo(borrower)).isEqualTo(13);
		assertThat(lent).as("the first event, while the server waits").hasToString("data: first\n\n");
		this.release.countDown();
		while (in.lendTo(borrower) >= 0) {
			// on to the end
		}
		assertThat(lent).hasToString("data: first\n\ndata: second\n\ndata: [DONE]\n\n");
		answer.body().close();
		assertThat(this.client.idleConnections()).as("read to its end: back in the pool").isEqualTo(1);
	}

	/**
	 * Chunked answers whose chunk heads, data and CRLFs arrive in pieces cut at random (a
	 * fixed seed): lending and reading give the same body.
	 */
	@Test
	void chunksCutAtRandomAreLentAsTheyAreRead() throws Exception {
		Random random = new Random(20261202L);
		for (int round = 0; round < 20; round++) {
			StringBuilder body = new StringBuilder();
			StringBuilder wire = new StringBuilder("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
					+ "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
			for (int c = 0; c < 1 + random.nextInt(30); c++) {
				String data = "data: {\"n\":" + c + ",\"pad\":\"" + "x".repeat(random.nextInt(300)) + "\"}\n\n";
				body.append(data);
				wire.append(Integer.toHexString(data.length()))
					.append(random.nextBoolean() ? ";ext=1" : "")
					.append("\r\n")
					.append(data)
					.append("\r\n");
			}
			wire.append("0\r\n\r\n");
			byte[] bytes = wire.toString().getBytes(StandardCharsets.ISO_8859_1);
			long seed = random.nextLong();
			for (boolean lend : new boolean[] { true, false }) {
				try (ExecutorService accept = Executors.newVirtualThreadPerTaskExecutor();
						ServerSocket raw = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
					accept.submit(() -> {
						try (Socket socket = raw.accept()) {
							socket.setTcpNoDelay(true);
							readRequest(socket.getInputStream());
							Random cuts = new Random(seed);
							for (int at = 0; at < bytes.length;) {
								int n = Math.min(bytes.length - at, 1 + cuts.nextInt(200));
								socket.getOutputStream().write(bytes, at, n);
								socket.getOutputStream().flush();
								at += n;
								Thread.sleep(cuts.nextInt(2));
							}
						}
						return null;
					});
					URI uri = URI.create("http://127.0.0.1:" + raw.getLocalPort() + "/s");
					UpstreamClient.Answer answer = this.client.post(uri, "{}".getBytes(), true, "c").execute();
					StringBuilder got = new StringBuilder();
					try (InputStream in = answer.body()) {
						if (lend) {
							while (((LendingInput) in).lendTo((b, off, len) -> got
								.append(new String(b, off, len, StandardCharsets.ISO_8859_1))) >= 0) {
								// on to the end
							}
						}
						else {
							got.append(new String(in.readAllBytes(), StandardCharsets.ISO_8859_1));
						}
					}
					assertThat(got).as("round %d, %s", round, lend ? "lent" : "read").hasToString(body.toString());
				}
			}
		}
	}

	/**
	 * Chunk size lines as servers write them are read (upper or lower case, spaces,
	 * extensions, LF without CR); malformed ones fail the answer with what is wrong.
	 */
	@Test
	void chunkSizesAreReadStrictly() throws Exception {
		assertThat(chunked("1A ;name=value\r\n" + "x".repeat(26) + "\r\n \t2\nok\n0\r\n\r\n"))
			.isEqualTo("x".repeat(26) + "ok");
		for (String[] bad : new String[][] { { "zz", "byte 0x7a" }, { "", "no digits" }, { ";x", "no digits" },
				{ "1 2", "a space between its digits" }, { "10000000000000000", "more than 63 bits" },
				{ "-5", "byte 0x2d" }, { "+5", "byte 0x2b" } }) {
			assertThatThrownBy(() -> chunked(bad[0] + "\r\nhello\r\n0\r\n\r\n")).as(bad[0])
				.isInstanceOf(IOException.class)
				.hasMessage("bad chunk size: " + bad[1]);
		}
		assertThatThrownBy(() -> chunked("5\r\nhelloX\r\n0\r\n\r\n")).isInstanceOf(IOException.class)
			.hasMessage("chunk not followed by CRLF");
	}

	/** A chunked answer of the given body (chunk framing included) from a raw server. */
	private String chunked(String framed) throws Exception {
		return onceFrom("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n"
				+ "Connection: close\r\n\r\n" + framed, (uri) -> {
					try (InputStream in = this.client.post(uri, "{}".getBytes(), true, "c").execute().body()) {
						return new String(in.readAllBytes(), StandardCharsets.UTF_8);
					}
				});
	}

	/**
	 * Runs a call against a raw server of its own that reads one request and writes the
	 * given answer, as it is, then closes the connection.
	 */
	private <T> T onceFrom(String answer, RawCall<T> call) throws Exception {
		// The executor first: the server socket closes first, which ends its accept.
		try (ExecutorService accept = Executors.newVirtualThreadPerTaskExecutor();
				ServerSocket raw = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
			accept.submit(() -> {
				try (Socket socket = raw.accept()) {
					readRequest(socket.getInputStream());
					socket.getOutputStream().write(answer.getBytes(StandardCharsets.ISO_8859_1));
				}
				return null;
			});
			return call.call(URI.create("http://127.0.0.1:" + raw.getLocalPort() + "/x"));
		}
	}

	/** A call to a raw server. */
	@FunctionalInterface
	private interface RawCall<T> {

		T call(URI uri) throws Exception;

	}

	@Test
	void anAnswerClosedBeforeItsEndClosesItsConnection() throws Exception {
		this.release = new CountDownLatch(1);
		UpstreamClient.Answer answer = this.client.post(uri("/stream"), "{}".getBytes(), true, "s").execute();
		answer.body().read(new byte[100]);
		answer.body().close();
		this.release.countDown();
		assertThat(this.client.idleConnections()).isZero();
		UpstreamClient.Answer next = this.client.post(uri("/echo"), "{\"a\":1}".getBytes(), false, "n").execute();
		assertThat(read(next)).isEqualTo("{\"a\":1}");
		assertThat(this.clientPorts).as("a new connection for the next call").hasSize(2);
	}

	@Test
	void passesAServerErrorThrough() throws Exception {
		UpstreamClient.Answer answer = this.client.post(uri("/error"), "{}".getBytes(), false, "e").execute();
		assertThat(answer.status()).isEqualTo(500);
		assertThat(read(answer)).isEqualTo("{\"error\":\"boom\"}");
	}

	@Test
	void anAnswerWithNoBodyEndsAtOnceAndKeepsTheConnection() throws Exception {
		UpstreamClient.Answer answer = this.client.post(uri("/slow"), "{}".getBytes(), false, "e").execute();
		assertThat(answer.status()).isEqualTo(204);
		assertThat(read(answer)).isEmpty();
		assertThat(this.client.idleConnections()).isEqualTo(1);
	}

	@Test
	void cancellingFromAnotherThreadEndsACallThatWaitsForItsAnswer() throws Exception {
		this.release = new CountDownLatch(1);
		UpstreamClient.Call call = this.client.post(uri("/slow"), "{}".getBytes(), false, "c");
		try (ExecutorService caller = Executors.newVirtualThreadPerTaskExecutor()) {
			Future<UpstreamClient.Answer> waiting = caller.submit(call::execute);
			long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
			while (this.requests.get() == 0 && System.nanoTime() < deadline) {
				Thread.sleep(5);
			}
			call.cancel();
			assertThatThrownBy(() -> waiting.get(5, TimeUnit.SECONDS))
				.hasCauseInstanceOf(UpstreamClient.CallCancelledException.class);
		}
		finally {
			this.release.countDown();
		}
	}

	@Test
	void aCallCancelledBeforeItStartsIsNeverSent() {
		UpstreamClient.Call call = this.client.post(uri("/echo"), "{}".getBytes(), false, "c");
		call.cancel();
		assertThatThrownBy(call::execute).isInstanceOf(UpstreamClient.CallCancelledException.class);
		assertThat(this.requests.get()).isZero();
	}

	@Test
	void anAnswerThatTakesLongerThanTheResponseTimeoutFails() {
		this.release = new CountDownLatch(1);
		PooledHttp1Client impatient = new PooledHttp1Client(Duration.ofSeconds(2), Duration.ofMillis(200),
				Duration.ofSeconds(4), 16);
		try {
			assertThatThrownBy(() -> impatient.post(uri("/slow"), "{}".getBytes(), false, "t").execute())
				.isInstanceOf(java.net.SocketTimeoutException.class);
		}
		finally {
			this.release.countDown();
			impatient.close();
		}
	}

	@Test
	void anUnreachableEndpointFailsToConnect() throws IOException {
		int closedPort;
		try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
			closedPort = probe.getLocalPort();
		}
		assertThatThrownBy(() -> this.client
			.post(URI.create("http://127.0.0.1:" + closedPort + "/echo"), "{}".getBytes(), false, "u")
			.execute()).isInstanceOf(java.net.ConnectException.class);
	}

	@Test
	void aPooledConnectionTheServerClosedIsReplacedAndTheRequestSentOnce() throws Exception {
		// A raw server that answers one request per connection with keep-alive headers,
		// then closes the connection: the client's pooled connection is dead when reused.
		AtomicInteger received = new AtomicInteger();
		// The executor first: the server socket closes first, which ends its accept.
		try (ExecutorService accept = Executors.newVirtualThreadPerTaskExecutor();
				ServerSocket raw = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
			accept.submit(() -> {
				while (!raw.isClosed()) {
					try (Socket socket = raw.accept()) {
						readRequest(socket.getInputStream());
						received.incrementAndGet();
						socket.getOutputStream()
							.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
								.getBytes(StandardCharsets.ISO_8859_1));
						socket.getOutputStream().flush();
						// closes without saying so
					}
					catch (IOException ex) {
						return null;
					}
				}
				return null;
			});
			URI uri = URI.create("http://127.0.0.1:" + raw.getLocalPort() + "/v1/chat/completions");
			assertThat(read(this.client.post(uri, "{}".getBytes(), false, "a").execute())).isEqualTo("{}");
			Thread.sleep(100);
			assertThat(read(this.client.post(uri, "{}".getBytes(), false, "b").execute())).isEqualTo("{}");
			assertThat(received.get()).as("each request reached the server once").isEqualTo(2);
		}
	}

	@Test
	void anAnswerEndedByTheServerClosingIsReadToItsEndAndNotPooled() throws Exception {
		onceFrom("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end", (uri) -> {
			assertThat(read(this.client.post(uri, "{}".getBytes(), false, "a").execute())).isEqualTo("until the end");
			assertThat(this.client.idleConnections()).isZero();
			return null;
		});
	}

	@Test
	void aMalformedAnswerHeadIsAnError() throws Exception {
		onceFrom("SSH-2.0-OpenSSH\r\n\r\n", (uri) -> {
			assertThatThrownBy(() -> this.client.post(uri, "{}".getBytes(), false, "a").execute())
				.isInstanceOf(IOException.class)
				.hasMessageContaining("not an HTTP/1.x status line");
			return null;
		});
	}

	/** Reads a request's head and its Content-Length body. */
	private static void readRequest(InputStream in) throws IOException {
		StringBuilder head = new StringBuilder();
		while (!head.toString().endsWith("\r\n\r\n")) {
			int b = in.read();
			if (b < 0) {
				throw new IOException("closed");
			}
			head.append((char) b);
		}
		int length = 0;
		for (String line : head.toString().split("\r\n")) {
			if (line.toLowerCase().startsWith("content-length:")) {
				length = Integer.parseInt(line.substring(15).strip());
			}
		}
		in.readNBytes(length);
	}

}
