package dev.tiergate.metering;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.tiergate.cluster.GpuExporter;
import dev.tiergate.cluster.InMemoryClusterView;
import dev.tiergate.routing.EndpointRegistry;
import dev.tiergate.routing.MutableClock;
import dev.tiergate.routing.RoutingProperties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Tests for {@link DcgmScraping}'s gauges, scraping real HTTP exporters: a GPU's series
 * appear with its first reading and go when it is forgotten, a node's go with its last
 * GPU, and both come back when the exporter does.
 */
class DcgmScrapingTests {

	private static final Duration HISTORY = Duration.ofHours(1);

	private final MutableClock clock = new MutableClock(Instant.parse("2026-11-30T12:00:00Z"));

	private final MeterRegistry meters = new SimpleMeterRegistry();

	private final List<GpuExporter> exporters = new CopyOnWriteArrayList<>();

	private final HttpServer server;

	private final DcgmScraping scraping;

	DcgmScrapingTests() throws IOException {
		this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
		this.server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
		RecordedDcgmExposition.serve(this.server, "/metrics");
		this.server.start();
		MeteringProperties.Dcgm properties = new MeteringProperties.Dcgm(Duration.ofSeconds(15), Duration.ofSeconds(2),
				Duration.ofMinutes(1), Duration.ofMinutes(1), HISTORY, Duration.ofSeconds(30));
		this.scraping = new DcgmScraping(() -> List.copyOf(this.exporters), new DcgmReadings(),
				new GpuMeasurements(properties.maxGap(), properties.history(), properties.historyStep()),
				new EndpointRegistry(new InMemoryClusterView(), RoutingProperties.withSlots(8, Map.of())), properties,
				this.clock, this.meters);
	}

	@AfterEach
	void stop() {
		this.server.stop(0);
	}

	/** The recorded exposition (two GPUs) served as the exporter pod on {@code node}. */
	private GpuExporter exporterOn(String node) {
		return new GpuExporter("gpu-operator", "dcgm-" + node, node, "127.0.0.1", this.server.getAddress().getPort(),
				"/metrics", true, false);
	}

	private List<String> gpusWith(String name) {
		return this.meters.find(name)
			.gauges()
			.stream()
			.map((gauge) -> gauge.getId().getTag("node") + "/" + gauge.getId().getTag("gpu"))
			.sorted()
			.toList();
	}

	private List<String> nodesWithUnattributed() {
		return this.meters.find("tiergate.gpu.unattributed.seconds")
			.gauges()
			.stream()
			.map((gauge) -> gauge.getId().getTag("node"))
			.sorted()
			.toList();
	}

	@Test
	void aScrapedGpuGetsItsFourGaugesAndItsNodeOne() {
		this.exporters.add(exporterOn("node-a"));

		this.scraping.runOnce();

		for (String name : List.of("tiergate.gpu.utilization", "tiergate.gpu.engine.active", "tiergate.gpu.slots",
				"tiergate.gpu.slots.inflight")) {
			assertThat(gpusWith(name)).as(name).containsExactly("node-a/0", "node-a/1");
		}
		assertThat(nodesWithUnattributed()).containsExactly("node-a");
		Gauge utilization = this.meters.get("tiergate.gpu.utilization").tags("node", "node-a", "gpu", "0").gauge();
		assertThat(utilization.value()).isCloseTo(0.87, within(1e-9));
	}

	@Test
	void aGpuNotReadForLongerThanTheHistoryLosesItsGaugesAndItsNodeWithItsLastGpu() {
		this.exporters.add(exporterOn("node-a"));
		this.exporters.add(exporterOn("node-b"));
		this.scraping.runOnce();
		assertThat(gpusWith("tiergate.gpu.utilization")).containsExactly("node-a/0", "node-a/1", "node-b/0",
				"node-b/1");

		this.exporters.removeIf((exporter) -> exporter.nodeName().equals("node-b"));
		this.clock.advance(HISTORY.minusMinutes(1));
		this.scraping.runOnce();
		assertThat(gpusWith("tiergate.gpu.utilization")).as("within the history node-b's GPUs are kept (stale)")
			.containsExactly("node-a/0", "node-a/1", "node-b/0", "node-b/1");

		this.clock.advance(Duration.ofMinutes(2));
		this.scraping.runOnce();

		for (String name : List.of("tiergate.gpu.utilization", "tiergate.gpu.engine.active", "tiergate.gpu.slots",
				"tiergate.gpu.slots.inflight")) {
			assertThat(gpusWith(name)).as(name).containsExactly("node-a/0", "node-a/1");
		}
		assertThat(nodesWithUnattributed()).containsExactly("node-a");
	}

	@Test
	void aForgottenGpuGetsItsGaugesBackWhenItsExporterReturns() {
		GpuExporter exporter = exporterOn("node-a");
		this.exporters.add(exporter);
		this.scraping.runOnce();
		this.exporters.clear();
		this.clock.advance(HISTORY.plusMinutes(1));
		this.scraping.runOnce();
		assertThat(this.meters.find("tiergate.gpu.utilization").gauges()).isEmpty();
		assertThat(nodesWithUnattributed()).isEmpty();

		this.exporters.add(exporter);
		this.scraping.runOnce();

		assertThat(gpusWith("tiergate.gpu.utilization")).containsExactly("node-a/0", "node-a/1");
		assertThat(nodesWithUnattributed()).containsExactly("node-a");
		assertThat(this.meters.get("tiergate.gpu.utilization").tags("node", "node-a", "gpu", "0").gauge().value())
			.isCloseTo(0.87, within(1e-9));
	}

}
