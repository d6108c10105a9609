package dev.tiergate.proxy;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import com.sun.management.HotSpotDiagnosticMXBean;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;

import dev.tiergate.EmbeddedDefaults;
import dev.tiergate.FleetIntegrationTestSupport;
import dev.tiergate.fleet.SimulatedGpuFleet;
import dev.tiergate.quota.QuotaService;
import dev.tiergate.routing.EndpointRegistry;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Tests that a held stream is served on a shallow virtual thread of its own
 * ({@link DetachedStream}, {@code tiergate.proxy.detach-streams}) and not on the
 * container's thread under the filters and the servlet, read from a thread dump of the
 * running application (virtual threads included, as {@code jcmd Thread.dump_to_file}
 * writes it), and that a stream whose client leaves mid-answer, or that is answered
 * whole, is settled and gives its place back either way.
 */
class DetachedStreamsIntegrationTests {

	private static final JsonMapper json = JsonMapper.builder().build();

	/** A stream's serving frame, on whichever thread serves it. */
	private static final String SERVING = "dev.tiergate.proxy.Completions.serve(";

	private static final String SERVLET = "dev.tiergate.web.CompletionsServlet.service(";

	static String streamBody(int maxTokens) {
		return "{\"model\":\"" + SimulatedGpuFleet.LLAMA + "\",\"stream\":true,\"max_tokens\":" + maxTokens
				+ ",\"messages\":[{\"role\":\"user\",\"content\":\"Tell me a long story\"}]}";
	}

	/** Reads an answer's head and its first event: the stream is held from then on. */
	static BufferedReader firstEvent(Socket socket) throws Exception {
		socket.setSoTimeout(30_000);
		BufferedReader reader = new BufferedReader(
				new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII), 1);
		String status = reader.readLine();
		assertThat(status).startsWith("HTTP/1.1 200");
		String line;
		while ((line = reader.readLine()) != null && !line.startsWith("data: ")) {
			// the head, and the first chunk's size
		}
		assertThat(line).as("a first event").isNotNull();
		return reader;
	}

	/**
	 * The stacks of the threads, virtual ones included, that serve a completion.
	 * @param dir where the dump is written
	 * @return name and frames of each
	 */
	static List<ServingThread> servingThreads(Path dir) throws Exception {
		Path file = dir.resolve("threads-" + System.nanoTime() + ".json");
		ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class)
			.dumpThreads(file.toString(), HotSpotDiagnosticMXBean.ThreadDumpFormat.JSON);
		JsonNode dump = json.readTree(Files.readString(file));
		List<ServingThread> serving = new ArrayList<>();
		for (JsonNode container : dump.get("threadDump").get("threadContainers")) {
			for (JsonNode thread : container.get("threads")) {
				List<String> frames = new ArrayList<>();
				thread.get("stack").forEach((frame) -> frames.add(frame.asString()));
				if (frames.stream().anyMatch((frame) -> frame.contains(SERVING) || frame.contains(SERVLET))) {
					serving.add(new ServingThread(thread.get("name").asString(), frames));
				}
			}
		}
		return serving;
	}

	record ServingThread(String name, List<String> frames) {

		boolean has(String frame) {
			return this.frames.stream().anyMatch((line) -> line.contains(frame));
		}

	}

	abstract static class Streams extends FleetIntegrationTestSupport {

		@Autowired
		OpenRequests open;

		@Autowired
		EndpointRegistry registry;

		@Autowired
		QuotaService quota;

		@TempDir
		Path dumps;

		@BeforeEach
		void fleetIsKnownAndNothingIsOpen() {
			await().atMost(Duration.ofSeconds(10)).until(() -> !this.registry.pool(SimulatedGpuFleet.LLAMA).isEmpty());
			await().atMost(Duration.ofSeconds(10)).until(() -> this.open.open() == 0);
		}

		/** A held stream's serving thread, found while the stream is held. */
		ServingThread heldStreamsThread() throws Exception {
			try (Socket socket = rawPost(EmbeddedDefaults.ACME_KEY, "P1", streamBody(4000))) {
				firstEvent(socket);
				List<ServingThread> serving = servingThreads(this.dumps);
				assertThat(serving).as("threads serving a completion").hasSize(1);
				return serving.get(0);
			}
			finally {
				// The client left: the upstream call is aborted, the stream settled.
				await().atMost(Duration.ofSeconds(15))
					.untilAsserted(() -> assertThat(this.open.open()).as("open requests").isZero());
				await().atMost(Duration.ofSeconds(15))
					.untilAsserted(() -> assertThat(this.quota.status("acme").inFlight()).as("quota leases").isZero());
			}
		}

		@Test
		void aStreamAnsweredWholeIsSettledWithItsUsageAndGivesItsPlaceBack() throws Exception {
			long before = this.quota.status("acme").monthTokens();
			try (Socket socket = rawPost(EmbeddedDefaults.ACME_KEY, "P1", streamBody(12))) {
				BufferedReader reader = firstEvent(socket);
				String line;
				boolean done = false;
				while (!done && (line = reader.readLine()) != null) {
					done = line.equals("data: [DONE]");
				}
				assertThat(done).as("the stream ended with [DONE]").isTrue();
			}
			await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
				assertThat(this.open.open()).isZero();
				assertThat(this.quota.status("acme").inFlight()).isZero();
				assertThat(this.quota.status("acme").monthTokens()).as("tokens charged").isGreaterThan(before);
			});
		}

	}

	@Nested
	class Detached extends Streams {

		@Test
		void aHeldStreamParksOnAShallowThreadOfItsOwnNotUnderTheServlet() throws Exception {
			ServingThread thread = heldStreamsThread();
			assertThat(thread.name()).startsWith("tiergate-stream-");
			assertThat(thread.has(SERVING)).isTrue();
			assertThat(thread.has(SERVLET)).as("the servlet's frame").isFalse();
			assertThat(thread.has("org.apache.catalina")).as("the container's frames").isFalse();
			assertThat(thread.frames()).as("%s", thread.frames()).hasSizeLessThan(36);
		}

	}

	@Nested
	@TestPropertySource(properties = "tiergate.proxy.detach-streams=false")
	class OnTheContainersThread extends Streams {

		@Test
		void aHeldStreamParksUnderTheServletWhenStreamsAreNotDetached() throws Exception {
			ServingThread thread = heldStreamsThread();
			assertThat(thread.has(SERVLET)).isTrue();
			assertThat(thread.has("org.apache.catalina")).isTrue();
			assertThat(thread.frames()).hasSizeGreaterThan(45);
		}

	}

}
