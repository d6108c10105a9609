package dev.tiergate;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Import;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import dev.tiergate.fleet.SimulatedGpuFleet;

/**
 * Base of the tests that run the whole application in-process against the shared
 * simulated GPU fleet (through the official Kubernetes client), the real Redis on
 * 127.0.0.1:6379, and real HTTP on random ports, seeded like the embedded default.
 */
@SpringBootTest(classes = TiergateApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "management.server.port=0", "spring.data.redis.database=" + LocalRedis.TEST_DATABASE,
				"spring.data.redis.timeout=" + LocalRedis.TEST_TIMEOUT, "logging.level.io.fabric8.mockwebserver=WARN",
				"tiergate.batch.max-file-size=4MB" })
@Import(EmbeddedDefaults.class)
public abstract class FleetIntegrationTestSupport {

	protected static final HttpClient http = HttpClient.newBuilder()
		.version(HttpClient.Version.HTTP_1_1)
		.connectTimeout(Duration.ofSeconds(5))
		.build();

	@LocalServerPort
	protected int port;

	@DynamicPropertySource
	static void fleet(DynamicPropertyRegistry registry) {
		registry.add("tiergate.cluster.api-server", () -> SimulatedGpuFleet.shared().apiServerUrl());
	}

	protected static SimulatedGpuFleet fleet() {
		return SimulatedGpuFleet.shared();
	}

	protected URI uri(String path) {
		return URI.create("http://127.0.0.1:" + this.port + path);
	}

	protected HttpResponse<String> post(String path, String key, String body, String... headers)
			throws IOException, InterruptedException {
		HttpRequest.Builder request = HttpRequest.newBuilder(uri(path))
			.timeout(Duration.ofSeconds(30))
			.header("Content-Type", "application/json")
			.POST(HttpRequest.BodyPublishers.ofString(body));
		if (key != null) {
			request.header("Authorization", "Bearer " + key);
		}
		if (headers.length > 0) {
			request.headers(headers);
		}
		return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
	}

	/**
	 * An HTTP Basic {@code Authorization} header value.
	 * @param user user name
	 * @param password password
	 * @return the header value
	 */
	public static String basic(String user, String password) {
		return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
	}

	/**
	 * Sends a JSON request to the application.
	 * @param method HTTP method
	 * @param path path and query
	 * @param authorization {@code Authorization} header value, or {@code null}
	 * @param body JSON body, or {@code null}
	 * @return the response
	 * @throws IOException on I/O failure
	 * @throws InterruptedException if interrupted
	 */
	public HttpResponse<String> send(String method, String path, String authorization, String body)
			throws IOException, InterruptedException {
		HttpRequest.Builder request = HttpRequest.newBuilder(uri(path))
			.timeout(Duration.ofSeconds(30))
			.header("Content-Type", "application/json")
			.method(method,
					(body != null) ? HttpRequest.BodyPublishers.ofString(body) : HttpRequest.BodyPublishers.noBody());
		if (authorization != null) {
			request.header("Authorization", authorization);
		}
		return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
	}

	protected HttpResponse<String> get(String path, String authorization) throws IOException, InterruptedException {
		HttpRequest.Builder request = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(30)).GET();
		if (authorization != null) {
			request.header("Authorization", authorization);
		}
		return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
	}

	/**
	 * Sends a chat completion request on a socket of its own and reads nothing: the
	 * caller reads the answer or closes the socket (the client leaving).
	 * @param key the tenant's key
	 * @param tier the tier asked
	 * @param body the JSON body
	 * @return the open socket
	 * @throws IOException when the connection fails
	 */
	protected Socket rawPost(String key, String tier, String body) throws IOException {
		byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
		Socket socket = new Socket("127.0.0.1", this.port);
		OutputStream out = socket.getOutputStream();
		out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + key
				+ "\r\nX-Tiergate-Priority: " + tier + "\r\nContent-Type: application/json\r\nContent-Length: "
				+ bytes.length + "\r\n\r\n")
			.getBytes(StandardCharsets.US_ASCII));
		out.write(bytes);
		out.flush();
		return socket;
	}

	protected static String chat(String model, int maxTokens) {
		return """
				{"model":"%s","messages":[{"role":"user","content":"Say something about GPUs"}],"max_tokens":%d}"""
			.formatted(model, maxTokens);
	}

}
