package dev.tiergate.metering;

import java.net.URI;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

import dev.tiergate.cluster.GpuExporter;
import dev.tiergate.cluster.GpuExporters;
import dev.tiergate.routing.EndpointRegistry;
import dev.tiergate.routing.RoundLoop;

/**
 * The DCGM exporters scraped off the request path: every
 * {@code tiergate.metering.dcgm.scrape-interval}, on a virtual thread of its own, one
 * {@link DcgmScraper} round over the exporters the cluster's informer knows, then the
 * readings go to {@link GpuMeasurements} with each GPU's slot occupancy. Registers the
 * gauges {@code tiergate.gpu.utilization{node,gpu}}, {@code tiergate.gpu.engine.active},
 * {@code tiergate.gpu.slots} and {@code tiergate.gpu.slots.inflight} (the series the
 * overview's chart reads from Prometheus, {@link PrometheusHistory}) and
 * {@code tiergate.gpu.unattributed.seconds{node}} as GPUs and nodes appear, and removes
 * them when a GPU is forgotten (not read for longer than the history) and when a node no
 * longer appears in the report. {@link #runOnce()} lets tests drive it.
 */
public class DcgmScraping implements SmartLifecycle {

	private static final Logger logger = LoggerFactory.getLogger(DcgmScraping.class);

	private final GpuExporters exporters;

	private final DcgmReadings readings;

	private final DcgmScraper scraper;

	private final GpuMeasurements measurements;

	private final EndpointRegistry registry;

	private final MeteringProperties.Dcgm properties;

	private final Clock clock;

	private final MeterRegistry meters;

	/** Each node's gauge, removed when the node no longer appears in the report. */
	private final Map<String, Gauge> gaugeOfNode = new ConcurrentHashMap<>();

	/** Each GPU's gauges, removed with the GPU when it is forgotten. */
	private final Map<String, List<Gauge>> gaugesOfGpu = new ConcurrentHashMap<>();

	private volatile Map<String, String> nodeOfExporter = Map.of();

	private final RoundLoop rounds;

	/**
	 * Scraping.
	 * @param exporters the exporters discovered
	 * @param readings where the figures go
	 * @param measurements where they are integrated
	 * @param registry the endpoints, for slot occupancy per GPU
	 * @param properties scrape settings
	 * @param clock the clock
	 * @param meters where the gauges go, or {@code null}
	 */
	public DcgmScraping(GpuExporters exporters, DcgmReadings readings, GpuMeasurements measurements,
			EndpointRegistry registry, MeteringProperties.Dcgm properties, Clock clock, MeterRegistry meters) {
		this.exporters = exporters;
		this.readings = readings;
		this.measurements = measurements;
		this.registry = registry;
		this.properties = properties;
		this.clock = clock;
		this.meters = meters;
		this.scraper = new DcgmScraper(this::targets, readings, clock, properties.timeout());
		this.rounds = new RoundLoop("dcgm-scraping", properties.scrapeInterval(), this::runOnce, logger);
	}

	private Map<String, URI> targets() {
		Map<String, URI> targets = new LinkedHashMap<>();
		Map<String, String> nodes = new HashMap<>();
		for (GpuExporter exporter : this.exporters.exporters()) {
			if (exporter.scrapable()) {
				targets.put(exporter.key(), exporter.uri());
				nodes.put(exporter.key(), exporter.nodeName());
			}
		}
		this.nodeOfExporter = Map.copyOf(nodes);
		return targets;
	}

	/**
	 * One round: scrapes every exporter, then integrates the readings.
	 */
	public void runOnce() {
		this.scraper.runOnce();
		Instant now = this.clock.instant();
		List<String> forgotten = this.measurements.observe(this.readings.readings(now, this.properties.staleAfter()),
				now, this.registry.endpoints(), this.nodeOfExporter);
		if (this.meters != null) {
			forgotten.forEach(this::removeGauges);
			gauges(now);
		}
	}

	private void gauges(Instant now) {
		List<GpuMeasurements.NodeFigures> nodes = this.measurements.report(now, this.properties.staleAfter()).nodes();
		Set<String> reported = new HashSet<>();
		for (GpuMeasurements.NodeFigures node : nodes) {
			reported.add(node.node());
			this.gaugeOfNode.computeIfAbsent(node.node(),
					(name) -> Gauge
						.builder("tiergate.gpu.unattributed.seconds", this.measurements, (m) -> m.unattributed(name))
						.description("Measured busy GPU-seconds (DCGM) minus those attributed to leases, since this "
								+ "replica's first scrape")
						.baseUnit("seconds")
						.tag("node", name)
						.register(this.meters));
			for (GpuMeasurements.GpuFigures gpu : node.gpus()) {
				String key = gpu.node() + "/" + gpu.gpu();
				if (!this.gaugesOfGpu.containsKey(key)) {
					List<Gauge> gauges = new ArrayList<>();
					this.gaugesOfGpu.put(key, gauges);
					gauges.add(Gauge
						.builder("tiergate.gpu.utilization", this.measurements,
								(m) -> m.utilization(gpu.node(), gpu.gpu(), this.clock.instant(),
										this.properties.staleAfter()))
						.description("DCGM_FI_DEV_GPU_UTIL of the GPU as a ratio, NaN when stale")
						.tag("node", gpu.node())
						.tag("gpu", gpu.gpu())
						.register(this.meters));
					gauges.add(Gauge
						.builder("tiergate.gpu.engine.active", this.measurements,
								(m) -> m.engineActive(gpu.node(), gpu.gpu(), this.clock.instant(),
										this.properties.staleAfter()))
						.description("DCGM_FI_PROF_GR_ENGINE_ACTIVE of the GPU, NaN when stale or not collected")
						.tag("node", gpu.node())
						.tag("gpu", gpu.gpu())
						.register(this.meters));
					gauges.add(Gauge
						.builder("tiergate.gpu.slots", this.measurements,
								(m) -> m.slots(gpu.node(), gpu.gpu(), this.clock.instant(),
										this.properties.staleAfter()))
						.description("Slots of the endpoints on the GPU, NaN when its figures are stale")
						.tag("node", gpu.node())
						.tag("gpu", gpu.gpu())
						.register(this.meters));
					gauges.add(Gauge
						.builder("tiergate.gpu.slots.inflight", this.measurements,
								(m) -> m.slotsInFlight(gpu.node(), gpu.gpu(), this.clock.instant(),
										this.properties.staleAfter()))
						.description("Slots in flight through this replica on the endpoints of the GPU, NaN when "
								+ "its figures are stale")
						.tag("node", gpu.node())
						.tag("gpu", gpu.gpu())
						.register(this.meters));
				}
			}
		}
		// A node gone with all its GPUs (nodes come and go with a cluster's autoscaler)
		// takes its series with it.
		this.gaugeOfNode.entrySet().removeIf((entry) -> {
			boolean gone = !reported.contains(entry.getKey());
			if (gone) {
				this.meters.remove(entry.getValue());
			}
			return gone;
		});
	}

	private void removeGauges(String gpu) {
		List<Gauge> gauges = this.gaugesOfGpu.remove(gpu);
		if (gauges != null) {
			gauges.forEach(this.meters::remove);
		}
	}

	@Override
	public void start() {
		this.rounds.start();
	}

	@Override
	public void stop() {
		this.rounds.stop();
	}

	@Override
	public boolean isRunning() {
		return this.rounds.isRunning();
	}

}
