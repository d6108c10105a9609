package dev.tiergate.fleet;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * A stand-in for the NVIDIA DCGM exporter of one node ({@code nvidia-dcgm-exporter}, a
 * DaemonSet of the GPU Operator): {@code GET /metrics} answers in the exporter's text
 * exposition, one series per GPU and per pod on it (the exporter's Kubernetes mapping
 * adds {@code namespace}, {@code pod} and {@code container} labels; a GPU without pods
 * has one series without them), with the labels the real exporter sets ({@code gpu},
 * {@code UUID}, {@code device}, {@code modelName}, {@code Hostname}, ...).
 * <p>
 * The figures follow the engine model of the node's simulated vLLM servers, each on one
 * MPS slice of a GPU, over the sample period that ends at the scrape (the driver's
 * utilization window):
 * <ul>
 * <li>{@code DCGM_FI_PROF_GR_ENGINE_ACTIVE}: the sum over the GPU's pods of their slices'
 * share of the GPU times the part of the period their engine computed (MPS limits each
 * client to its share of the SMs, so a busy quarter slice keeps a quarter of the engine
 * active);</li>
 * <li>{@code DCGM_FI_DEV_GPU_UTIL}: the percentage of the period in which any pod's
 * engine computed (a kernel ran), which is why it reads high on a shared GPU;</li>
 * <li>{@code DCGM_FI_DEV_FB_USED} and {@code FB_FREE}: each pod's allocation as the
 * engine model sizes it (vLLM reserves {@code --gpu-memory-utilization} 0.9 of its
 * replica's memory at start), so they change with the pods, not with the load.</li>
 * </ul>
 */
public final class SimulatedDcgmExporter implements AutoCloseable {

	/** The exporter's port in the GPU Operator. */
	public static final int DEFAULT_PORT = 9400;

	private final String node;

	private final String product;

	private final long memoryMib;

	private final long samplePeriodNanos;

	private final List<Gpu> gpus = new ArrayList<>();

	private HttpServer server;

	private ExecutorService executor;

	/**
	 * An exporter.
	 * @param node the node's name ({@code Hostname})
	 * @param product the GPUs' product name ({@code modelName})
	 * @param gpus how many GPUs the node has
	 * @param memoryMib each GPU's memory
	 * @param samplePeriod the window the utilization figures average over
	 */
	public SimulatedDcgmExporter(String node, String product, int gpus, long memoryMib, Duration samplePeriod) {
		this.node = node;
		this.product = product;
		this.memoryMib = memoryMib;
		this.samplePeriodNanos = samplePeriod.toNanos();
		for (int i = 0; i < gpus; i++) {
			this.gpus.add(new Gpu(i, String.format("GPU-%08x-0000-4000-8000-%012d", Math.abs(node.hashCode()), i)));
		}
	}

	/**
	 * Places a pod's server on one GPU.
	 * @param gpu the GPU's index
	 * @param namespace the pod's namespace
	 * @param pod the pod's name
	 * @param server its server
	 * @param share its slices' share of the GPU (1 / replicas for one MPS slice)
	 */
	public void place(int gpu, String namespace, String pod, SimulatedInferenceServer server, double share) {
		Gpu target = this.gpus.get(gpu);
		Placed placed = new Placed(namespace, pod, server, share);
		synchronized (target) {
			target.pods.add(placed);
		}
		server.addBusyListener(target::transition);
	}

	/**
	 * Starts listening on an ephemeral local port.
	 * @return this exporter
	 */
	public SimulatedDcgmExporter start() {
		try {
			HttpServer http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
			this.executor = Executors.newVirtualThreadPerTaskExecutor();
			http.setExecutor(this.executor);
			http.createContext("/metrics", this::metrics);
			http.start();
			this.server = http;
			return this;
		}
		catch (IOException ex) {
			throw new java.io.UncheckedIOException(ex);
		}
	}

	/**
	 * The port it listens on.
	 * @return the port
	 */
	public int port() {
		return this.server.getAddress().getPort();
	}

	/**
	 * How many GPUs it reports.
	 * @return the node's GPUs
	 */
	public int gpus() {
		return this.gpus.size();
	}

	/**
	 * The node it reports.
	 * @return the node's name
	 */
	public String node() {
		return this.node;
	}

	/**
	 * Busy GPU-seconds the GPUs really had between two times, by the engine model: the
	 * sum over pods of share times the time their engine computed. What the DCGM
	 * exporter's activity figure, integrated over time, measures.
	 * @param gpu the GPU's index
	 * @param fromNanos from, on {@link System#nanoTime()}
	 * @param toNanos to
	 * @return GPU-seconds
	 */
	public double busySeconds(int gpu, long fromNanos, long toNanos) {
		List<Placed> pods;
		Gpu target = this.gpus.get(gpu);
		synchronized (target) {
			pods = List.copyOf(target.pods);
		}
		double seconds = 0;
		for (Placed placed : pods) {
			seconds += placed.share * (placed.server.busyNanos(toNanos) - placed.server.busyNanos(fromNanos)) / 1e9;
		}
		return seconds;
	}

	/**
	 * The exposition as of now.
	 * @return the text a scrape gets
	 */
	public String exposition() {
		long now = System.nanoTime();
		long from = now - this.samplePeriodNanos;
		StringBuilder util = new StringBuilder();
		StringBuilder active = new StringBuilder();
		StringBuilder used = new StringBuilder();
		StringBuilder free = new StringBuilder();
		for (Gpu gpu : this.gpus) {
			List<Placed> pods;
			double any;
			synchronized (gpu) {
				pods = List.copyOf(gpu.pods);
				any = (gpu.log.busyNanos(now) - gpu.log.busyNanos(from)) / (double) this.samplePeriodNanos;
			}
			double engineActive = 0;
			double usedMib = 0;
			for (Placed placed : pods) {
				engineActive += placed.share * (placed.server.busyNanos(now) - placed.server.busyNanos(from))
						/ (double) this.samplePeriodNanos;
				usedMib += Math.floor(this.memoryMib * 0.9 * placed.share);
			}
			// An engine that stopped just after another started, read under their own
			// locks.
			any = Math.max(0, Math.min(1, any));
			engineActive = Math.max(0, Math.min(1, engineActive));
			long fbUsed = (long) usedMib;
			long fbFree = Math.max(0, this.memoryMib - fbUsed);
			List<String> labelSets = new ArrayList<>();
			if (pods.isEmpty()) {
				labelSets.add(labels(gpu, null));
			}
			pods.forEach((placed) -> labelSets.add(labels(gpu, placed)));
			for (String labels : labelSets) {
				util.append("DCGM_FI_DEV_GPU_UTIL{")
					.append(labels)
					.append("} ")
					.append(Math.round(any * 100))
					.append('\n');
				active.append("DCGM_FI_PROF_GR_ENGINE_ACTIVE{")
					.append(labels)
					.append("} ")
					.append(String.format(Locale.ROOT, "%.6f", engineActive))
					.append('\n');
				used.append("DCGM_FI_DEV_FB_USED{").append(labels).append("} ").append(fbUsed).append('\n');
				free.append("DCGM_FI_DEV_FB_FREE{").append(labels).append("} ").append(fbFree).append('\n');
			}
		}
		return "# HELP DCGM_FI_DEV_FB_FREE Framebuffer memory free (in MiB).\n# TYPE DCGM_FI_DEV_FB_FREE gauge\n" + free
				+ "# HELP DCGM_FI_DEV_FB_USED Framebuffer memory used (in MiB).\n# TYPE DCGM_FI_DEV_FB_USED gauge\n"
				+ used + "# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).\n# TYPE DCGM_FI_DEV_GPU_UTIL gauge\n"
				+ util + "# HELP DCGM_FI_PROF_GR_ENGINE_ACTIVE Ratio of time the graphics engine is active.\n"
				+ "# TYPE DCGM_FI_PROF_GR_ENGINE_ACTIVE gauge\n" + active;
	}

	private String labels(Gpu gpu, Placed placed) {
		String base = "gpu=\"" + gpu.index + "\",UUID=\"" + gpu.uuid + "\",pci_bus_id=\"00000000:"
				+ String.format("%02X", 7 + gpu.index * 8) + ":00.0\",device=\"nvidia" + gpu.index + "\",modelName=\""
				+ this.product.replaceFirst("^NVIDIA-", "NVIDIA ") + "\",Hostname=\"" + this.node
				+ "\",DCGM_FI_DRIVER_VERSION=\"550.90.07\"";
		if (placed == null) {
			return base;
		}
		return base + ",container=\"vllm\",namespace=\"" + placed.namespace + "\",pod=\"" + placed.pod + "\"";
	}

	private void metrics(HttpExchange exchange) throws IOException {
		try (exchange) {
			if (!"GET".equals(exchange.getRequestMethod())) {
				exchange.sendResponseHeaders(405, -1);
				return;
			}
			byte[] body = exposition().getBytes(StandardCharsets.UTF_8);
			exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
			exchange.sendResponseHeaders(200, body.length);
			try (OutputStream out = exchange.getResponseBody()) {
				out.write(body);
			}
		}
	}

	@Override
	public void close() {
		if (this.server != null) {
			this.server.stop(0);
		}
		if (this.executor != null) {
			this.executor.shutdownNow();
		}
	}

	private static final class Gpu {

		final int index;

		final String uuid;

		final List<Placed> pods = new ArrayList<>();

		final BusyLog log = new BusyLog();

		int busyPods;

		Gpu(int index, String uuid) {
			this.index = index;
			this.uuid = uuid;
		}

		synchronized void transition(boolean busy, long at) {
			boolean before = this.busyPods > 0;
			this.busyPods += busy ? 1 : -1;
			boolean after = this.busyPods > 0;
			if (before != after) {
				this.log.transition(after, at);
			}
		}

	}

	private record Placed(String namespace, String pod, SimulatedInferenceServer server, double share) {

	}

}
