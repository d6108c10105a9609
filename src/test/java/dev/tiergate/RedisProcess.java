package dev.tiergate;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;

/**
 * A {@code redis-server} of the test's own, on a free port, logging every write so it
 * survives a kill.
 */
public final class RedisProcess {

	/** Its port. */
	public final int port;

	private final Path dir;

	private Process process;

	/**
	 * A server on a free port, not started.
	 * @throws IOException if no port or directory can be had
	 */
	public RedisProcess() throws IOException {
		try (ServerSocket socket = new ServerSocket(0)) {
			this.port = socket.getLocalPort();
		}
		this.dir = Files.createTempDirectory("tiergate-redis");
	}

	/**
	 * Starts it and waits until it answers.
	 * @throws Exception if it does not start
	 */
	public void start() throws Exception {
		this.process = new ProcessBuilder("redis-server", "--port", Integer.toString(this.port), "--bind", "127.0.0.1",
				"--save", "", "--appendonly", "yes", "--appendfsync", "always", "--dir", this.dir.toString())
			.redirectErrorStream(true)
			.redirectOutput(this.dir.resolve("redis.log").toFile())
			.start();
		await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(() -> {
			try (Socket socket = new Socket("127.0.0.1", this.port)) {
				socket.getOutputStream().write("PING\r\n".getBytes());
				return new String(socket.getInputStream().readNBytes(7)).startsWith("+PONG");
			}
		});
	}

	/**
	 * Sends it a signal ({@code STOP} freezes it, {@code CONT} lets it go on).
	 * @param signal the signal's name
	 * @throws Exception if {@code kill} fails
	 */
	public void signal(String signal) throws Exception {
		new ProcessBuilder("kill", "-" + signal, Long.toString(this.process.pid())).start().waitFor();
	}

	/** Kills it (letting it go on first if frozen). */
	public void kill() {
		if (this.process != null && this.process.isAlive()) {
			try {
				signal("CONT");
			}
			catch (Exception ex) {
				// best effort
			}
			this.process.destroyForcibly();
			try {
				this.process.waitFor(10, TimeUnit.SECONDS);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}
	}

}
