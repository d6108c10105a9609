package dev.tiergate;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.springframework.core.env.SimpleCommandLinePropertySource;
import org.springframework.core.env.StandardEnvironment;

import redis.embedded.RedisServer;
import redis.embedded.core.ExecutableProvider;

/**
 * The embedded default's Redis when none answers at the configured address: a throwaway
 * {@code redis-server} (the one on the {@code PATH} if there is one, else the Redis 6.2
 * binary inside {@code embedded-redis}) on a free port of 127.0.0.1, without persistence.
 * Only the embedded default uses it; a real deployment never starts a Redis of its own.
 */
public final class EmbeddedRedis implements AutoCloseable {

	private static final String HOST = "spring.data.redis.host";

	private static final String PORT = "spring.data.redis.port";

	private static volatile EmbeddedRedis running;

	private final RedisServer server;

	private final int port;

	private final String executable;

	private final String unreachable;

	private EmbeddedRedis(RedisServer server, int port, String executable, String unreachable) {
		this.server = server;
		this.port = port;
		this.executable = executable;
		this.unreachable = unreachable;
	}

	/**
	 * The configured Redis address as Spring Boot would read it from these arguments,
	 * system properties and environment variables (e.g. {@code SPRING_DATA_REDIS_PORT}),
	 * falling back to {@code application.yaml}'s 127.0.0.1:6379.
	 * @param args command-line arguments
	 * @return the address
	 */
	static InetSocketAddress configuredAddress(String[] args) {
		StandardEnvironment environment = new StandardEnvironment();
		environment.getPropertySources().addFirst(new SimpleCommandLinePropertySource(args));
		String host = environment.getProperty(HOST, "127.0.0.1");
		int port = environment.getProperty(PORT, Integer.class, 6379);
		return InetSocketAddress.createUnresolved(host, port);
	}

	/**
	 * Whether a Redis answers {@code PING} at an address within half a second.
	 * @param address the address
	 * @return {@code true} if it answered {@code +PONG} (or asked for a password, which
	 * means a Redis is there)
	 */
	static boolean answers(InetSocketAddress address) {
		try (Socket socket = new Socket()) {
			socket.connect(new InetSocketAddress(address.getHostString(), address.getPort()), 500);
			socket.setSoTimeout(500);
			OutputStream out = socket.getOutputStream();
			out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
			out.flush();
			InputStream in = socket.getInputStream();
			byte[] reply = in.readNBytes(5);
			String text = new String(reply, StandardCharsets.US_ASCII);
			return text.equals("+PONG") || text.startsWith("-NOAU") || text.startsWith("-ERR");
		}
		catch (IOException ex) {
			return false;
		}
	}

	/**
	 * Starts a Redis for the embedded default if none answers at the configured address.
	 * @param args command-line arguments of the embedded default
	 * @return the started Redis, or {@code null} if the configured one answers
	 */
	static EmbeddedRedis startIfUnreachable(String[] args) {
		InetSocketAddress configured = configuredAddress(args);
		if (answers(configured)) {
			return null;
		}
		ExecutableProvider provider;
		String executable;
		try {
			provider = ExecutableProvider.newExecutableInPath("redis-server");
			executable = "redis-server from the PATH";
		}
		catch (FileNotFoundException ex) {
			provider = ExecutableProvider.newJarResourceProvider();
			executable = "embedded-redis's Redis 6.2";
		}
		EmbeddedRedis redis = start(provider, executable, configured.getHostString() + ":" + configured.getPort());
		running = redis;
		return redis;
	}

	/**
	 * Starts a Redis without persistence on a free port of 127.0.0.1.
	 * @param provider where its executable comes from
	 * @param executable what the banner calls the executable
	 * @param unreachable the address that did not answer
	 * @return the running Redis
	 */
	static EmbeddedRedis start(ExecutableProvider provider, String executable, String unreachable) {
		int port = freePort();
		try {
			RedisServer server = RedisServer.newRedisServer()
				.executableProvider(provider)
				.bind("127.0.0.1")
				.port(port)
				.setting("save \"\"")
				.setting("appendonly no")
				.onShutdownForceStop(true)
				.build();
			server.start();
			return new EmbeddedRedis(server, port, executable, unreachable);
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Cannot start a Redis for the embedded default", ex);
		}
	}

	/**
	 * The arguments with the Redis address pointing at this server (any given address
	 * removed, since a repeated command-line option would join both values).
	 * @param args command-line arguments
	 * @return the arguments to start the application with
	 */
	String[] redirect(String[] args) {
		List<String> result = new ArrayList<>();
		for (String arg : args) {
			if (!arg.startsWith("--" + HOST + "=") && !arg.startsWith("--" + PORT + "=")) {
				result.add(arg);
			}
		}
		result.add("--" + HOST + "=127.0.0.1");
		result.add("--" + PORT + "=" + this.port);
		return result.toArray(String[]::new);
	}

	/**
	 * What the banner says about the Redis of the embedded default.
	 * @param host the host the application uses
	 * @param port the port the application uses
	 * @return one line
	 */
	static String banner(String host, String port) {
		EmbeddedRedis redis = running;
		if (redis != null && redis.server.isActive() && String.valueOf(redis.port).equals(port)) {
			return redis.describe();
		}
		return "Redis at " + host + ":" + port;
	}

	/**
	 * Stops the Redis the embedded default started, if any (the embedded default stops it
	 * itself when the JVM exits).
	 */
	static void stopRunning() {
		EmbeddedRedis redis = running;
		if (redis != null) {
			redis.close();
		}
	}

	/**
	 * Its port on 127.0.0.1.
	 * @return the port
	 */
	public int port() {
		return this.port;
	}

	/**
	 * What the banner says about it.
	 * @return one line
	 */
	public String describe() {
		return "no Redis answered at " + this.unreachable + ", so the embedded default started " + this.executable
				+ " on 127.0.0.1:" + this.port + " (no persistence: its data is gone at exit)";
	}

	private static int freePort() {
		try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
			return socket.getLocalPort();
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	@Override
	public void close() {
		if (running == this) {
			running = null;
		}
		try {
			if (this.server.isActive()) {
				this.server.stop();
			}
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

}
