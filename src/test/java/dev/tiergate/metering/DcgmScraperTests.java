package dev.tiergate.metering;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.tiergate.routing.MutableClock;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link DcgmScraper}: a good, a failing and a hanging exporter, served by the
 * JDK's HTTP server.
 */
class DcgmScraperTests {

	private final CountDownLatch release = new CountDownLatch(1);

	private final HttpServer server;

	private final MutableClock clock = new MutableClock(Instant.parse("2026-11-29T12:00:00Z"));

	private final DcgmReadings readings = new DcgmReadings();

	private final Map<String, URI> targets = new HashMap<>();

	private final DcgmScraper scraper = new DcgmScraper(() -> Map.copyOf(this.targets), this.readings, this.clock,
			Duration.ofMillis(500));

	DcgmScraperTests() throws IOException {
		this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
		this.server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
		RecordedDcgmExposition.serve(this.server, "/good/metrics");
		this.server.createContext("/failing/metrics", (exchange) -> {
			exchange.sendResponseHeaders(503, -1);
			exchange.close();
		});
		// Headers at once, then a body that never ends.
		this.server.createContext("/hanging/metrics", (exchange) -> {
			exchange.sendResponseHeaders(200, 0);
			exchange.getResponseBody().write("DCGM_FI_DEV_GPU_UTIL{gpu=\"0\"".getBytes(StandardCharsets.UTF_8));
			exchange.getResponseBody().flush();
			try {
				this.release.await();
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
			exchange.close();
		});
		this.server.start();
	}

	@AfterEach
	void stop() {
		this.release.countDown();
		this.server.stop(0);
	}

	private URI uri(String path) {
		return URI.create("http://127.0.0.1:" + this.server.getAddress().getPort() + path);
	}

	@Test
	void aRoundReadsTheGoodExporterAndFlagsTheFailingAndHangingOnesWithinTheTimeout() {
		this.targets.put("gpu-operator/good", uri("/good/metrics"));
		this.targets.put("gpu-operator/failing", uri("/failing/metrics"));
		this.targets.put("gpu-operator/hanging", uri("/hanging/metrics"));
		long started = System.nanoTime();
		this.scraper.runOnce();
		assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(3));
		List<DcgmReadings.GpuReading> all = this.readings.readings(this.clock.instant(), Duration.ofSeconds(30));
		assertThat(all.stream().filter((r) -> r.exporter().equals("gpu-operator/good"))).hasSize(2).allSatisfy((r) -> {
			assertThat(r.stale()).isFalse();
			assertThat(r.error()).isNull();
		});
		assertThat(all.stream().filter((r) -> r.exporter().equals("gpu-operator/failing"))).singleElement()
			.satisfies((r) -> {
				assertThat(r.stale()).isTrue();
				assertThat(r.error()).isEqualTo("HTTP 503");
			});
		assertThat(all.stream().filter((r) -> r.exporter().equals("gpu-operator/hanging"))).singleElement()
			.satisfies((r) -> {
				assertThat(r.stale()).isTrue();
				assertThat(r.error()).contains("no answer within");
			});
	}

	@Test
	void anExporterThatIsGoneIsForgotten() {
		this.targets.put("gpu-operator/good", uri("/good/metrics"));
		this.scraper.runOnce();
		this.targets.clear();
		this.scraper.runOnce();
		assertThat(this.readings.readings(this.clock.instant(), Duration.ofSeconds(30))).isEmpty();
	}

}
