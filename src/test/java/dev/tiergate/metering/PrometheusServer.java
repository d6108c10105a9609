package dev.tiergate.metering;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A real Prometheus server for tests (Debian's {@code prometheus} package, which
 * {@code .ci/run} installs): started on a free local port with a configuration of its own
 * that scrapes one target, its TSDB in a temporary directory. Without the binary, a test
 * is skipped on a developer's machine but fails in CI ({@code CI=true}).
 */
final class PrometheusServer implements AutoCloseable {

	private final Process process;

	private final int port;

	private final Path log;

	private PrometheusServer(Process process, int port, Path log) {
		this.process = process;
		this.port = port;
		this.log = log;
	}

	/**
	 * The prometheus executable, or skips (fails when {@code CI=true}) without one.
	 * @return its path
	 */
	static Path require() {
		Path debian = Path.of("/usr/bin/prometheus");
		if (Files.isExecutable(debian)) {
			return debian;
		}
		for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
			Path candidate = Path.of(dir, "prometheus");
			if (Files.isExecutable(candidate)) {
				return candidate;
			}
		}
		if ("true".equalsIgnoreCase(System.getenv("CI"))) {
			fail("prometheus is not installed; .ci/run installs Debian's prometheus package for it");
		}
		assumeTrue(false, "prometheus is not installed (apt-get install --no-install-recommends prometheus)");
		return null;
	}

	/**
	 * A free local port (for a server started later).
	 * @return the port
	 */
	static int freePort() {
		try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
			return socket.getLocalPort();
		}
		catch (IOException ex) {
			throw new java.io.UncheckedIOException(ex);
		}
	}

	/**
	 * Starts Prometheus and waits until it is ready.
	 * @param directory where its configuration, data and log go
	 * @param port the port it listens on (127.0.0.1)
	 * @param target the {@code host:port} it scrapes
	 * @param metricsPath the path it scrapes there
	 * @param interval its scrape interval
	 * @return the running server
	 */
	static PrometheusServer start(Path directory, int port, String target, String metricsPath, Duration interval)
			throws IOException {
		Path binary = require();
		Path config = directory.resolve("prometheus.yml");
		Files.writeString(config, """
				global:
				  scrape_interval: %1$ds
				  evaluation_interval: %1$ds
				scrape_configs:
				  - job_name: tiergate
				    metrics_path: %2$s
				    static_configs:
				      - targets: ['%3$s']
				""".formatted(interval.toSeconds(), metricsPath, target));
		Path log = directory.resolve("prometheus.log");
		Process process = new ProcessBuilder(binary.toString(), "--config.file=" + config,
				"--storage.tsdb.path=" + directory.resolve("data"), "--web.listen-address=127.0.0.1:" + port,
				"--storage.tsdb.retention.time=1h")
			.redirectErrorStream(true)
			.redirectOutput(log.toFile())
			.start();
		PrometheusServer server = new PrometheusServer(process, port, log);
		HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
		try {
			await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
				if (!process.isAlive()) {
					fail("prometheus exited: " + Files.readString(log));
				}
				try {
					return http
						.send(HttpRequest.newBuilder(URI.create(server.url() + "/-/ready"))
							.timeout(Duration.ofSeconds(1))
							.build(), HttpResponse.BodyHandlers.discarding())
						.statusCode() == 200;
				}
				catch (IOException ex) {
					return false;
				}
			});
		}
		catch (RuntimeException | Error ex) {
			server.close();
			throw ex;
		}
		return server;
	}

	/**
	 * Its address.
	 * @return {@code http://127.0.0.1:PORT}
	 */
	String url() {
		return "http://127.0.0.1:" + this.port;
	}

	/**
	 * What it logged so far, for failure messages.
	 * @return its log
	 */
	String log() {
		try {
			return Files.readString(this.log);
		}
		catch (IOException ex) {
			return ex.toString();
		}
	}

	@Override
	public void close() {
		this.process.destroy();
		try {
			if (!this.process.waitFor(10, TimeUnit.SECONDS)) {
				this.process.destroyForcibly();
			}
		}
		catch (InterruptedException ex) {
			this.process.destroyForcibly();
			Thread.currentThread().interrupt();
		}
	}

}
