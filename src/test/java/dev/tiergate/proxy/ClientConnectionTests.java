package dev.tiergate.proxy;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link ClientConnection} on the servlet container the application runs on
 * (embedded Tomcat): a client that closes its connection while its request waits is seen
 * to go; one that waits for its answer is not, and gets it.
 */
class ClientConnectionTests {

	private BareTomcat tomcat;

	/** Per request: whether a probe found the client gone within the watch. */
	private volatile CompletableFuture<Boolean> verdict = new CompletableFuture<>();

	private volatile Duration watchFor = Duration.ofSeconds(5);

	private final Sweeper sweeper = new Sweeper("client-connection-tests", Duration.ofMillis(20));

	private final ClientProbes probes = new ClientProbes(Duration.ofMillis(100), this.sweeper);

	@BeforeEach
	void start() throws Exception {
		HttpServlet servlet = new HttpServlet() {

			@Override
			protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
				byte[] body = request.getInputStream().readAllBytes();
				ClientConnection client = ClientConnection.watch(request);
				try {
					CompletableFuture<Boolean> verdict = ClientConnectionTests.this.verdict;
					try (ClientProbes.Probe probe = ClientConnectionTests.this.probes.watch(client,
							() -> verdict.complete(true))) {
						try {
							verdict.get(ClientConnectionTests.this.watchFor.toMillis(), TimeUnit.MILLISECONDS);
						}
						catch (TimeoutException ex) {
							verdict.complete(false);
						}
						catch (InterruptedException | ExecutionException ex) {
							throw new IllegalStateException(ex);
						}
					}
					assertThat(ClientConnectionTests.this.sweeper.size()).as("a closed probe is not checked").isZero();
					assertThat(client.gone()).as("not probed once answering").isFalse();
					response.setContentType("application/json");
					response.setContentLength(body.length);
					response.getOutputStream().write(body);
				}
				finally {
					client.complete();
				}
			}

		};
		this.tomcat = new BareTomcat("/echo", servlet);
	}

	@AfterEach
	void stop() throws Exception {
		this.tomcat.close();
		this.sweeper.close();
	}

	private int port() {
		return this.tomcat.port();
	}

	@Test
	void aClientThatClosesItsConnectionWhileWaitingIsSeenToGo() throws Exception {
		try (Socket socket = new Socket("127.0.0.1", port())) {
			OutputStream out = socket.getOutputStream();
			out.write(("POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
					+ "Content-Length: 2\r\n\r\n{}")
				.getBytes(StandardCharsets.US_ASCII));
			out.flush();
			sleep(400);
			assertThat(this.verdict).isNotDone();
		}
		long closed = System.nanoTime();
		assertThat(this.verdict.get(5, TimeUnit.SECONDS)).isTrue();
		assertThat(Duration.ofNanos(System.nanoTime() - closed)).isLessThan(Duration.ofSeconds(2));
	}

	@Test
	void aClientThatWaitsIsNeverSeenToGoAndGetsItsAnswerOnAKeptAliveConnection() throws Exception {
		this.watchFor = Duration.ofMillis(600);
		HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
		for (int i = 0; i < 2; i++) {
			this.verdict = new CompletableFuture<>();
			HttpResponse<String> response = http
				.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port() + "/echo"))
					.POST(HttpRequest.BodyPublishers.ofString("{\"n\":" + i + "}"))
					.build(), HttpResponse.BodyHandlers.ofString());
			assertThat(response.statusCode()).isEqualTo(200);
			assertThat(response.body()).isEqualTo("{\"n\":" + i + "}");
			assertThat(this.verdict.get(1, TimeUnit.SECONDS)).isFalse();
		}
	}

	private static void sleep(long millis) {
		try {
			Thread.sleep(millis);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

}
