package dev.tiergate.metering;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import dev.tiergate.routing.Endpoint;

/**
 * Measured against attributed GPU time, per GPU and node, kept per replica in memory.
 * <p>
 * Measured: each scrape's busy fraction (the graphics engine's activity where the
 * exporter collects it, else {@code DCGM_FI_DEV_GPU_UTIL} / 100: the exporter's figures
 * average over its sample period) times the time since that GPU's previous scrape, summed
 * from the first scrape on. A gap longer than {@code maxGap} (an exporter that failed or
 * went stale) is not guessed at: it is counted as unmeasured time instead. Attributed:
 * what {@link GpuAttribution} charged to leases, per endpoint, placed on the GPU whose
 * exporter names the endpoint's pod ({@code pod} and {@code namespace} labels), else on
 * its node only. The difference, measured minus attributed, is the unattributed
 * remainder: GPU time no lease explains (work outside Tiergate, engine time a lease does
 * not cover), or, negative, lease time the GPU did not compute.
 * <p>
 * The last hour of utilization and slot occupancy per GPU is kept in a ring of
 * {@code historyStep} buckets. A GPU whose last reading is older than that hour (its node
 * was scaled away) is forgotten, and so is a pod no GPU has listed for an hour, and a
 * node's time attributed to pods on no known GPU once nothing was added to it for an hour
 * and the node has no GPU left, so that what is kept follows the cluster as it is rather
 * than every GPU, pod and node name ever seen. Thread-safe: the scraping and the flushing
 * threads write, views read.
 */
public final class GpuMeasurements {

	private final Duration maxGap;

	private final Duration historyStep;

	private final int historyBuckets;

	private final Map<String, Gpu> gpus = new TreeMap<>();

	/** Each pod's GPU ({@code node/gpu}) and when a GPU last listed it. */
	private final Map<String, PodPlace> gpuOfPod = new HashMap<>();

	private final Duration forgetAfter;

	/** Per node, time attributed to pods on no known GPU. */
	private final Map<String, Unplaced> unplacedAttributed = new TreeMap<>();

	private Instant since;

	/**
	 * Measurements.
	 * @param maxGap longest time between two scrapes of a GPU that is still integrated
	 * @param history how much history is kept (an hour)
	 * @param historyStep width of one history bucket
	 */
	public GpuMeasurements(Duration maxGap, Duration history, Duration historyStep) {
		this.maxGap = maxGap;
		this.historyStep = historyStep;
		this.historyBuckets = (int) Math.max(1, history.toMillis() / historyStep.toMillis());
		this.forgetAfter = history;
	}

	/**
	 * Takes in the readings after a scrape round.
	 * @param readings every GPU's last figures
	 * @param now the time now
	 * @param endpoints the endpoints, for each GPU's slots and slots in flight
	 * @param nodeOfExporter the node each exporter reports (its pod's node)
	 * @return the GPUs ({@code node/gpu}) forgotten in this round: not read for longer
	 * than the history
	 */
	public synchronized List<String> observe(List<DcgmReadings.GpuReading> readings, Instant now,
			List<Endpoint> endpoints, Map<String, String> nodeOfExporter) {
		if (this.since == null) {
			this.since = now;
		}
		Map<String, Endpoint> endpointByKey = new HashMap<>();
		endpoints.forEach((endpoint) -> endpointByKey.put(endpoint.key(), endpoint));
		for (DcgmReadings.GpuReading reading : readings) {
			DcgmExposition.GpuSample sample = reading.sample();
			if (sample == null) {
				continue;
			}
			Instant at = now.minus(reading.age());
			if (at.isBefore(now.minus(this.forgetAfter))) {
				// A reading older than the history: its GPU is forgotten, not revived.
				continue;
			}
			String node = nodeOfExporter.getOrDefault(reading.exporter(), sample.hostname());
			String key = node + "/" + sample.gpu();
			Gpu gpu = this.gpus.computeIfAbsent(key, (k) -> new Gpu(node, sample.gpu(), this.historyBuckets));
			gpu.last = reading;
			gpu.pods = sample.pods();
			sample.pods().forEach((pod) -> {
				this.gpuOfPod.put(pod, new PodPlace(key, now));
			});
			if (gpu.lastAt != null && at.isAfter(gpu.lastAt)) {
				Duration gap = Duration.between(gpu.lastAt, at);
				double seconds = gap.toNanos() / 1e9;
				if (gap.compareTo(this.maxGap) <= 0) {
					gpu.measuredSeconds += sample.busy() * seconds;
				}
				else {
					gpu.unmeasuredSeconds += seconds;
				}
			}
			if (gpu.lastAt == null || at.isAfter(gpu.lastAt)) {
				gpu.lastAt = at;
				int slots = 0;
				int inFlight = 0;
				for (String pod : sample.pods()) {
					Endpoint endpoint = endpointByKey.get(pod);
					if (endpoint != null) {
						slots += endpoint.slots();
						inFlight += endpoint.inFlight();
					}
				}
				gpu.slots = slots;
				gpu.inFlight = inFlight;
				gpu.record(at, sample.utilization() / 100, sample.graphicsEngineActive(),
						(slots > 0) ? (double) inFlight / slots : Double.NaN, this.historyStep);
			}
		}
		return forget(now);
	}

	private List<String> forget(Instant now) {
		Instant horizon = now.minus(this.forgetAfter);
		List<String> forgotten = new ArrayList<>();
		this.gpus.entrySet().removeIf((entry) -> {
			Instant lastAt = entry.getValue().lastAt;
			boolean gone = lastAt == null || lastAt.isBefore(horizon);
			if (gone) {
				forgotten.add(entry.getKey());
			}
			return gone;
		});
		this.gpuOfPod.values()
			.removeIf((place) -> place.seen().isBefore(horizon) || !this.gpus.containsKey(place.gpu()));
		this.unplacedAttributed.entrySet().removeIf((entry) -> {
			Unplaced unplaced = entry.getValue();
			if (unplaced.added) {
				unplaced.seen = now;
				unplaced.added = false;
			}
			return unplaced.seen.isBefore(horizon) && !hasGpu(entry.getKey());
		});
		return forgotten;
	}

	/**
	 * Takes in what was attributed since the last drain.
	 * @param attribution the drained attribution
	 * @param nodeOfEndpoint each endpoint's node
	 */
	public synchronized void attributed(GpuAttribution.Attribution attribution, Map<String, String> nodeOfEndpoint) {
		attribution.endpointBusySeconds().forEach((endpoint, seconds) -> {
			PodPlace place = this.gpuOfPod.get(endpoint);
			Gpu gpu = (place != null) ? this.gpus.get(place.gpu()) : null;
			if (gpu != null) {
				gpu.attributedSeconds += seconds;
			}
			else {
				Unplaced unplaced = this.unplacedAttributed.computeIfAbsent(nodeOfEndpoint.getOrDefault(endpoint, ""),
						(node) -> new Unplaced());
				unplaced.seconds += seconds;
				unplaced.added = true;
			}
		});
	}

	/**
	 * Every node and GPU as now.
	 * @param now the time now
	 * @param staleAfter age past which a reading is stale
	 * @return nodes sorted by name, GPUs by index
	 */
	public synchronized Report report(Instant now, Duration staleAfter) {
		Map<String, List<GpuFigures>> byNode = new TreeMap<>();
		for (Gpu gpu : this.gpus.values()) {
			DcgmReadings.GpuReading reading = gpu.last;
			DcgmExposition.GpuSample sample = reading.sample();
			Duration age = (gpu.lastAt != null) ? Duration.between(gpu.lastAt, now) : null;
			boolean stale = age == null || age.compareTo(staleAfter) > 0;
			byNode.computeIfAbsent(gpu.node, (n) -> new ArrayList<>())
				.add(new GpuFigures(gpu.node, gpu.index, sample.uuid(), sample.product(), sample.utilization() / 100,
						sample.graphicsEngineActive(), sample.framebufferUsedMiB(), sample.framebufferFreeMiB(),
						gpu.slots, gpu.inFlight, gpu.pods, stale, reading.error(), gpu.measuredSeconds,
						gpu.attributedSeconds, gpu.measuredSeconds - gpu.attributedSeconds, gpu.unmeasuredSeconds));
		}
		this.unplacedAttributed.keySet().forEach((node) -> byNode.computeIfAbsent(node, (n) -> new ArrayList<>()));
		List<NodeFigures> nodes = new ArrayList<>();
		byNode.forEach((node, gpus) -> {
			gpus.sort(java.util.Comparator.comparing(GpuFigures::gpu,
					java.util.Comparator.comparingInt(GpuMeasurements::index).thenComparing((g) -> g)));
			double measured = gpus.stream().mapToDouble(GpuFigures::measuredBusySeconds).sum();
			double unplaced = unplacedSeconds(node);
			double attributed = gpus.stream().mapToDouble(GpuFigures::attributedBusySeconds).sum() + unplaced;
			int slots = gpus.stream().mapToInt(GpuFigures::slots).sum();
			int inFlight = gpus.stream().mapToInt(GpuFigures::inFlight).sum();
			nodes.add(new NodeFigures(node, gpus.stream().mapToDouble(GpuFigures::utilization).average().orElse(0),
					slots, inFlight, measured, attributed, unplaced, measured - attributed, gpus));
		});
		return new Report(this.since, nodes);
	}

	/**
	 * The last hour per GPU.
	 * @param now the time now
	 * @return one series per GPU ({@code node/gpu}), oldest bucket first
	 */
	public synchronized List<History> history(Instant now) {
		List<History> result = new ArrayList<>();
		long step = this.historyStep.toMillis();
		long newest = Math.floorDiv(now.toEpochMilli(), step);
		for (Gpu gpu : this.gpus.values()) {
			List<Point> points = new ArrayList<>();
			for (long bucket = newest - this.historyBuckets + 1; bucket <= newest; bucket++) {
				int slot = (int) Math.floorMod(bucket, this.historyBuckets);
				if (gpu.bucketOf[slot] == bucket && gpu.samples[slot] > 0) {
					int n = gpu.samples[slot];
					points.add(new Point(Instant.ofEpochMilli(bucket * step), gpu.utilization[slot] / n,
							(gpu.activeSamples[slot] > 0) ? gpu.engineActive[slot] / gpu.activeSamples[slot]
									: Double.NaN,
							(gpu.occupancySamples[slot] > 0) ? gpu.occupancy[slot] / gpu.occupancySamples[slot]
									: Double.NaN));
				}
			}
			result.add(new History(gpu.node, gpu.index, points));
		}
		return result;
	}

	/**
	 * The last busy fraction of a GPU, for the gauge.
	 * @param node the node
	 * @param gpu the GPU's index
	 * @param now the time now
	 * @param staleAfter age past which it is not reported
	 * @return {@code DCGM_FI_DEV_GPU_UTIL} / 100, or NaN when stale or unknown
	 */
	public synchronized double utilization(String node, String gpu, Instant now, Duration staleAfter) {
		Gpu known = this.gpus.get(node + "/" + gpu);
		if (known == null || known.lastAt == null || Duration.between(known.lastAt, now).compareTo(staleAfter) > 0) {
			return Double.NaN;
		}
		return known.last.sample().utilization() / 100;
	}

	/**
	 * The last engine activity of a GPU, for the gauge.
	 * @param node the node
	 * @param gpu the GPU's index
	 * @param now the time now
	 * @param staleAfter age past which it is not reported
	 * @return {@code DCGM_FI_PROF_GR_ENGINE_ACTIVE}, or NaN when stale, unknown or not
	 * collected
	 */
	public synchronized double engineActive(String node, String gpu, Instant now, Duration staleAfter) {
		Gpu known = fresh(node, gpu, now, staleAfter);
		return (known != null) ? known.last.sample().graphicsEngineActive() : Double.NaN;
	}

	/**
	 * The slots of the endpoints on a GPU at its last reading, for the gauge.
	 * @param node the node
	 * @param gpu the GPU's index
	 * @param now the time now
	 * @param staleAfter age past which it is not reported
	 * @return the slots, or NaN when stale or unknown
	 */
	public synchronized double slots(String node, String gpu, Instant now, Duration staleAfter) {
		Gpu known = fresh(node, gpu, now, staleAfter);
		return (known != null) ? known.slots : Double.NaN;
	}

	/**
	 * The slots in flight through this replica on the endpoints of a GPU at its last
	 * reading, for the gauge.
	 * @param node the node
	 * @param gpu the GPU's index
	 * @param now the time now
	 * @param staleAfter age past which it is not reported
	 * @return the slots in flight, or NaN when stale or unknown
	 */
	public synchronized double slotsInFlight(String node, String gpu, Instant now, Duration staleAfter) {
		Gpu known = fresh(node, gpu, now, staleAfter);
		return (known != null) ? known.inFlight : Double.NaN;
	}

	private Gpu fresh(String node, String gpu, Instant now, Duration staleAfter) {
		Gpu known = this.gpus.get(node + "/" + gpu);
		if (known == null || known.lastAt == null || Duration.between(known.lastAt, now).compareTo(staleAfter) > 0) {
			return null;
		}
		return known;
	}

	/**
	 * The unattributed remainder of a node, for the gauge.
	 * @param node the node
	 * @return measured minus attributed busy GPU-seconds since the first scrape
	 */
	public synchronized double unattributed(String node) {
		double measured = 0;
		double attributed = unplacedSeconds(node);
		for (Gpu gpu : this.gpus.values()) {
			if (gpu.node.equals(node)) {
				measured += gpu.measuredSeconds;
				attributed += gpu.attributedSeconds;
			}
		}
		return measured - attributed;
	}

	private static int index(String gpu) {
		try {
			return Integer.parseInt(gpu);
		}
		catch (NumberFormatException ex) {
			return Integer.MAX_VALUE;
		}
	}

	private static final class Gpu {

		final String node;

		final String index;

		DcgmReadings.GpuReading last;

		List<String> pods = List.of();

		Instant lastAt;

		double measuredSeconds;

		double attributedSeconds;

		double unmeasuredSeconds;

		int slots;

		int inFlight;

		final long[] bucketOf;

		final int[] samples;

		final double[] utilization;

		final double[] engineActive;

		final int[] activeSamples;

		final double[] occupancy;

		final int[] occupancySamples;

		Gpu(String node, String index, int buckets) {
			this.node = node;
			this.index = index;
			this.bucketOf = new long[buckets];
			java.util.Arrays.fill(this.bucketOf, Long.MIN_VALUE);
			this.samples = new int[buckets];
			this.utilization = new double[buckets];
			this.engineActive = new double[buckets];
			this.activeSamples = new int[buckets];
			this.occupancy = new double[buckets];
			this.occupancySamples = new int[buckets];
		}

		void record(Instant at, double util, double active, double slotOccupancy, Duration step) {
			long bucket = Math.floorDiv(at.toEpochMilli(), step.toMillis());
			int slot = (int) Math.floorMod(bucket, this.bucketOf.length);
			if (this.bucketOf[slot] != bucket) {
				this.bucketOf[slot] = bucket;
				this.samples[slot] = 0;
				this.utilization[slot] = 0;
				this.engineActive[slot] = 0;
				this.activeSamples[slot] = 0;
				this.occupancy[slot] = 0;
				this.occupancySamples[slot] = 0;
			}
			this.samples[slot]++;
			this.utilization[slot] += util;
			if (!Double.isNaN(active)) {
				this.engineActive[slot] += active;
				this.activeSamples[slot]++;
			}
			if (!Double.isNaN(slotOccupancy)) {
				this.occupancy[slot] += slotOccupancy;
				this.occupancySamples[slot]++;
			}
		}

	}

	/**
	 * Every node's figures.
	 *
	 * @param since when the first scrape was taken in (measured time counts from then),
	 * or {@code null} before it
	 * @param nodes nodes sorted by name
	 */
	public record Report(Instant since, List<NodeFigures> nodes) {

	}

	/**
	 * One node.
	 *
	 * @param node the node
	 * @param utilization mean {@code DCGM_FI_DEV_GPU_UTIL} over its GPUs (0 to 1)
	 * @param slots slots of the endpoints on its GPUs
	 * @param inFlight slots in flight there
	 * @param measuredBusySeconds measured busy GPU-seconds since the first scrape
	 * @param attributedBusySeconds attributed busy GPU-seconds (on its GPUs and on the
	 * node without a known GPU)
	 * @param unplacedBusySeconds attributed to endpoints whose GPU no exporter names
	 * @param unattributedSeconds measured minus attributed
	 * @param gpus its GPUs
	 */
	public record NodeFigures(String node, double utilization, int slots, int inFlight, double measuredBusySeconds,
			double attributedBusySeconds, double unplacedBusySeconds, double unattributedSeconds,
			List<GpuFigures> gpus) {

		/**
		 * The unattributed part of the measured time.
		 * @return remainder over measured, or 0 when nothing was measured
		 */
		public double unattributedRatio() {
			return (this.measuredBusySeconds > 0) ? this.unattributedSeconds / this.measuredBusySeconds : 0;
		}

	}

	/**
	 * One GPU.
	 *
	 * @param node its node
	 * @param gpu its index
	 * @param uuid its UUID
	 * @param product its model name
	 * @param utilization {@code DCGM_FI_DEV_GPU_UTIL} / 100
	 * @param engineActive {@code DCGM_FI_PROF_GR_ENGINE_ACTIVE}, or NaN
	 * @param framebufferUsedMiB memory used, or NaN
	 * @param framebufferFreeMiB memory free, or NaN
	 * @param slots slots of the endpoints on it
	 * @param inFlight slots in flight there
	 * @param pods the pods the exporter names on it
	 * @param stale whether the last reading is older than the stale limit
	 * @param error the last scrape's error, or {@code null}
	 * @param measuredBusySeconds measured busy GPU-seconds since the first scrape
	 * @param attributedBusySeconds attributed to leases on its pods
	 * @param unattributedSeconds measured minus attributed
	 * @param unmeasuredSeconds time between scrapes too far apart to integrate
	 */
	public record GpuFigures(String node, String gpu, String uuid, String product, double utilization,
			double engineActive, double framebufferUsedMiB, double framebufferFreeMiB, int slots, int inFlight,
			List<String> pods, boolean stale, String error, double measuredBusySeconds, double attributedBusySeconds,
			double unattributedSeconds, double unmeasuredSeconds) {

		/**
		 * Slots in flight over slots.
		 * @return 0 to 1, or 0 without slots
		 */
		public double slotOccupancy() {
			return (this.slots > 0) ? (double) this.inFlight / this.slots : 0;
		}

	}

	/**
	 * One GPU's last hour.
	 *
	 * @param node its node
	 * @param gpu its index
	 * @param points buckets with samples, oldest first
	 */
	public record History(String node, String gpu, List<Point> points) {

	}

	/**
	 * One history bucket's means.
	 *
	 * @param at the bucket's start
	 * @param utilization mean {@code DCGM_FI_DEV_GPU_UTIL} / 100
	 * @param engineActive mean engine activity, or NaN
	 * @param slotOccupancy mean slot occupancy of its endpoints, or NaN
	 */
	public record Point(Instant at, double utilization, double engineActive, double slotOccupancy) {

	}

	private record PodPlace(String gpu, Instant seen) {
	}

	private double unplacedSeconds(String node) {
		Unplaced unplaced = this.unplacedAttributed.get(node);
		return (unplaced != null) ? unplaced.seconds : 0;
	}

	private boolean hasGpu(String node) {
		for (Gpu gpu : this.gpus.values()) {
			if (gpu.node.equals(node)) {
				return true;
			}
		}
		return false;
	}

	/**
	 * A node's time attributed to pods on no known GPU; {@code seen} is the scrape round
	 * after the last addition, set by the first round after the entry is made (an entry
	 * is made by an addition); guarded by the measurements' lock.
	 */
	private static final class Unplaced {

		private double seconds;

		private boolean added;

		private Instant seen;

	}

}
