package dev.tiergate.bench;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The benchmark's load generator, run as the scripts run it (a JVM of its own) against a
 * real HTTP server: the slow-request list of {@code --slow-ms} and the warm-up of
 * {@code --jit-quiet}, whose figures docs/benchmarks.md reports.
 */
class LoadGeneratorTests {

	/** The server holds every this-many-th request it receives for {@link #HELD_MS}. */
	private static final int HOLD_EVERY = 20;

	private static final int HELD_MS = 60;

	private final AtomicLong received = new AtomicLong();

	private HttpServer server;

	@TempDir
	Path dir;

	@BeforeEach
	void startServer() throws IOException {
		this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
		this.server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
		this.server.createContext("/v1/chat/completions", (exchange) -> {
			try (InputStream in = exchange.getRequestBody()) {
				in.readAllBytes();
			}
			if (this.received.incrementAndGet() % HOLD_EVERY == 0) {
				try {
					Thread.sleep(HELD_MS);
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
				}
			}
			byte[] answer = "{\"choices\":[]}".getBytes(StandardCharsets.UTF_8);
			exchange.getResponseHeaders().set("Content-Type", "application/json");
			exchange.sendResponseHeaders(200, answer.length);
			exchange.getResponseBody().write(answer);
			exchange.close();
		});
		this.server.start();
	}

	@AfterEach
	void stopServer() {
		this.server.stop(0);
	}

	@Test
	void listsEveryMeasuredRequestOverTheSlowBoundAndNoOther() throws Exception {
		Path slow = this.dir.resolve("slow.txt");
		JsonNode result = run("--rate", "200", "--seconds", "2", "--warmup", "0.5", "--slow-ms", "30", "--slow-out",
				slow.toString());
		long completed = result.get("completed").asLong();
		assertThat(result.get("ok").asLong()).isEqualTo(completed).isGreaterThan(300);
		assertThat(result.get("errors").asLong()).isZero();
		List<String> lines = Files.readAllLines(slow);
		// Every 20th of the ~400 measured requests was held 60 ms: about 20, and
		// whatever else this machine made slow; nothing under the bound.
		assertThat(lines).hasSizeGreaterThanOrEqualTo((int) (completed / HOLD_EVERY) - 2);
		List<Long> numbers = new ArrayList<>();
		long now = System.currentTimeMillis();
		for (String line : lines) {
			String[] fields = line.split(" ");
			assertThat(fields).as(line).hasSize(3);
			assertThat(Long.parseLong(fields[0])).as(line).isBetween(now - 60_000, now);
			assertThat(Double.parseDouble(fields[1])).as(line).isGreaterThan(30.0);
			numbers.add(Long.parseLong(fields[2]));
		}
		assertThat(numbers).doesNotHaveDuplicates().allSatisfy((n) -> assertThat(n).isBetween(0L, completed));
		// One in 20 held is 5% of the requests: the p99 is a held one.
		assertThat(result.at("/latencyMs/p99").asDouble()).isGreaterThan(HELD_MS);
	}

	@Test
	void jitQuietWarmsUpUntilThreeQuietSeconds() throws Exception {
		// A bound no compiler can exceed (1,000% of a core): the first three seconds are
		// quiet, so the warm-up is the 0.5 s asked for and three seconds more, seconds of
		// load also at a rate whose last request of a second leaves half a second before
		// its end.
		JsonNode result = run("--rate", "2", "--seconds", "0.5", "--warmup", "0.5", "--jit-quiet", "1000",
				"--warmup-max", "60");
		assertThat(result.get("warmupSeconds").asDouble()).isBetween(3.4, 5.0);
		assertThat(result.get("jitMsInRun").asLong()).isNotNegative();
	}

	@Test
	void jitQuietStopsAtTheMaximumWhenTheCompilersNeverQuieten() throws Exception {
		// 0% of a core is never met: the warm-up goes on a second at a time until the
		// maximum of 2 s in all.
		JsonNode result = run("--rate", "100", "--seconds", "0.5", "--warmup", "0.5", "--jit-quiet", "0",
				"--warmup-max", "2");
		assertThat(result.get("warmupSeconds").asDouble()).isBetween(2.0, 3.5);
		assertThat(result.get("completed").asLong()).isGreaterThan(20);
	}

	private JsonNode run(String... options) throws Exception {
		Path out = this.dir.resolve("out-" + System.nanoTime() + ".json");
		List<String> command = new ArrayList<>(
				List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m", "-cp",
						System.getProperty("java.class.path"), LoadGenerator.class.getName(), "--url",
						"http://127.0.0.1:" + this.server.getAddress().getPort() + "/v1/chat/completions", "--out",
						out.toString()));
		command.addAll(List.of(options));
		Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
		String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
		assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
		assertThat(process.exitValue()).as(output).isZero();
		return JsonMapper.builder().build().readTree(Files.readString(out));
	}

}
