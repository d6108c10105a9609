package dev.tiergate.fleet;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.tiergate.cluster.SharingProfile;
import dev.tiergate.cost.GpuProfile;
import dev.tiergate.cost.GpuServiceTimeModel;
import dev.tiergate.cost.ModelProfile;
import dev.tiergate.cost.SliceShare;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.AppsV1Api;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1ConfigMap;
import io.kubernetes.client.openapi.models.V1Namespace;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1ObjectMeta;

/**
 * The embedded default's GPU fleet: a Kubernetes API stand-in seeded with GPU nodes and
 * inference pods, and one {@link SimulatedInferenceServer} per pod on a local port, timed
 * by the {@link GpuServiceTimeModel}.
 * <p>
 * The default fleet: 2 nodes, each 4 x {@code NVIDIA-A100-SXM4-80GB} shared by MPS with 4
 * replicas (16 slices a node), 20 pods of {@code llama-3.1-8b-instruct} (8 slots each)
 * and 4 of {@code qwen2.5-32b-instruct} (4 slots each), one slice per pod (MPS hands a
 * pod at most one replica), spread over the nodes. The device plugin's ConfigMap
 * ({@code gpu-operator/device-plugin-config}) holds the profile the nodes run,
 * {@value #DEFAULT_PROFILE} (MPS, 4 replicas), and each node's label
 * {@code nvidia.com/device-plugin.config} selects it, as after a rollout in a real
 * cluster.
 */
public final class SimulatedGpuFleet implements AutoCloseable {

	/** Namespace of the inference pods. */
	public static final String NAMESPACE = "inference";

	/** Model of the large pool. */
	public static final String LLAMA = "llama-3.1-8b-instruct";

	/** Model of the small pool. */
	public static final String QWEN = "qwen2.5-32b-instruct";

	/** The sharing profile the default fleet's nodes run. */
	public static final String DEFAULT_PROFILE = "a100-mps-4";

	/** The node label that selects a node's sharing profile (GPU Operator convention). */
	public static final String PROFILE_LABEL = "nvidia.com/device-plugin.config";

	private static SimulatedGpuFleet shared;

	private final KubernetesApiStandIn kubernetes;

	private final ApiClient client;

	private final Map<String, SimulatedInferenceServer> servers = new LinkedHashMap<>();

	private final Map<String, String> modelOfPod = new LinkedHashMap<>();

	/** The GPU Operator's namespace, where the DCGM exporters run. */
	public static final String GPU_OPERATOR_NAMESPACE = "gpu-operator";

	/**
	 * The window the simulated DCGM exporters' utilization figures average over; the
	 * embedded default scrapes them as often
	 * ({@code tiergate.metering.dcgm.scrape-interval}).
	 */
	public static final Duration DCGM_SAMPLE_PERIOD = Duration.ofSeconds(1);

	private final Map<String, SimulatedDcgmExporter> exporters = new LinkedHashMap<>();

	private final Map<String, Integer> podsOnNode = new LinkedHashMap<>();

	private final Map<String, Integer> replicasOfNode = new LinkedHashMap<>();

	private SimulatedGpuFleet(KubernetesApiStandIn kubernetes) {
		this.kubernetes = kubernetes;
		this.client = kubernetes.apiClient();
	}

	/**
	 * Starts the default fleet.
	 * @param timeScale simulated time per real time: 1.0 is an A100's real speed, 0.1 ten
	 * times faster
	 * @return the running fleet
	 */
	public static SimulatedGpuFleet startDefault(double timeScale) {
		SimulatedGpuFleet fleet = new SimulatedGpuFleet(new KubernetesApiStandIn().start());
		try {
			fleet.createNamespace(NAMESPACE);
			fleet.addDevicePlugin();
			fleet.addSharingProfile(new SharingProfile(DEFAULT_PROFILE, SharingProfile.MPS, 4, SharingProfile.GPU,
					false, true, null, null));
			GpuProfile a100 = GpuProfile.a100Sxm80gb();
			List<String> nodes = List.of("gpu-node-1", "gpu-node-2");
			for (String node : nodes) {
				fleet.createNode(node, a100, 4, 4, DEFAULT_PROFILE);
			}
			GpuServiceTimeModel llama = new GpuServiceTimeModel(a100, ModelProfile.llama31_8b(), SliceShare.mps(4),
					timeScale);
			GpuServiceTimeModel qwen = new GpuServiceTimeModel(a100, ModelProfile.qwen25_32b(), SliceShare.mps(4),
					timeScale);
			for (int i = 0; i < 20; i++) {
				fleet.addPod(String.format("llama-%02d", i), LLAMA, nodes.get(i % 2), 8, llama);
			}
			for (int i = 0; i < 4; i++) {
				fleet.addPod(String.format("qwen-%02d", i), QWEN, nodes.get(i % 2), 4, qwen);
			}
			return fleet;
		}
		catch (RuntimeException ex) {
			fleet.close();
			throw ex;
		}
	}

	/**
	 * The default fleet's GPUs unshared: 2 nodes, each 4 x {@code NVIDIA-A100-SXM4-80GB}
	 * without MPS or time-slicing, one pod per GPU: 3 of {@code llama-3.1-8b-instruct} (8
	 * slots) and 1 of {@code qwen2.5-32b-instruct} (4 slots) a node. For comparisons with
	 * the default fleet (docs/cost-model.md).
	 * @param timeScale simulated time per real time
	 * @return the running fleet
	 */
	public static SimulatedGpuFleet startWholeGpus(double timeScale) {
		SimulatedGpuFleet fleet = new SimulatedGpuFleet(new KubernetesApiStandIn().start());
		try {
			fleet.createNamespace(NAMESPACE);
			GpuProfile a100 = GpuProfile.a100Sxm80gb();
			List<String> nodes = List.of("gpu-node-1", "gpu-node-2");
			for (String node : nodes) {
				fleet.createNode(node, a100, 4, 1, null, "none");
			}
			GpuServiceTimeModel llama = new GpuServiceTimeModel(a100, ModelProfile.llama31_8b(), SliceShare.none(),
					timeScale);
			GpuServiceTimeModel qwen = new GpuServiceTimeModel(a100, ModelProfile.qwen25_32b(), SliceShare.none(),
					timeScale);
			for (int i = 0; i < 6; i++) {
				fleet.addPod(String.format("llama-%02d", i), LLAMA, nodes.get(i % 2), 8, llama);
			}
			for (int i = 0; i < 2; i++) {
				fleet.addPod(String.format("qwen-%02d", i), QWEN, nodes.get(i % 2), 4, qwen);
			}
			return fleet;
		}
		catch (RuntimeException ex) {
			fleet.close();
			throw ex;
		}
	}

	/**
	 * An empty fleet (one namespace, no nodes or pods) for tests that build their own
	 * with {@link #addNode} and {@link #addPod}.
	 * @return the running, empty fleet
	 */
	public static SimulatedGpuFleet startEmpty() {
		SimulatedGpuFleet fleet = new SimulatedGpuFleet(new KubernetesApiStandIn().start());
		fleet.createNamespace(NAMESPACE);
		return fleet;
	}

	/**
	 * A default fleet shared by the tests of one JVM, fast (time scale 0.05), closed when
	 * the JVM exits. Tests that change the fleet (kill servers, delete pods) must start
	 * their own.
	 * @return the shared fleet
	 */
	public static synchronized SimulatedGpuFleet shared() {
		if (shared == null) {
			shared = startDefault(0.05);
			Runtime.getRuntime().addShutdownHook(new Thread(shared::close, "fleet-shutdown"));
		}
		return shared;
	}

	/**
	 * Adds the GPU Operator's namespace and the NVIDIA device plugin's DaemonSet, so
	 * sharing profiles can be applied (the DaemonSet is restarted by annotation) as in a
	 * real cluster.
	 */
	public void addDevicePlugin() {
		ensureNamespace(GPU_OPERATOR_NAMESPACE);
		try {
			new AppsV1Api(this.client)
				.createNamespacedDaemonSet("gpu-operator",
						FleetObjects.devicePluginDaemonSet("gpu-operator", "nvidia-device-plugin-daemonset"))
				.execute();
		}
		catch (ApiException ex) {
			throw new IllegalStateException("Cannot create the device plugin DaemonSet: " + ex.getCode(), ex);
		}
	}

	/**
	 * Writes a sharing profile into the device plugin's ConfigMap
	 * ({@code gpu-operator/device-plugin-config}), creating the ConfigMap if needed, as
	 * the GPU Operator's users (or Tiergate) would have.
	 * @param profile the profile
	 */
	public void addSharingProfile(SharingProfile profile) {
		profile.validate();
		CoreV1Api core = new CoreV1Api(this.client);
		try {
			V1ConfigMap existing = null;
			try {
				existing = core.readNamespacedConfigMap("device-plugin-config", "gpu-operator").execute();
			}
			catch (ApiException ex) {
				if (ex.getCode() != 404) {
					throw ex;
				}
			}
			if (existing == null) {
				core.createNamespacedConfigMap("gpu-operator",
						new V1ConfigMap().apiVersion("v1")
							.kind("ConfigMap")
							.metadata(new V1ObjectMeta().name("device-plugin-config").namespace("gpu-operator"))
							.data(new LinkedHashMap<>(Map.of(profile.name(), profile.toYaml()))))
					.execute();
			}
			else {
				Map<String, String> data = new LinkedHashMap<>(
						(existing.getData() != null) ? existing.getData() : Map.of());
				data.put(profile.name(), profile.toYaml());
				existing.apiVersion("v1").kind("ConfigMap").setData(data);
				core.replaceNamespacedConfigMap("device-plugin-config", "gpu-operator", existing).execute();
			}
		}
		catch (ApiException ex) {
			throw new IllegalStateException("Cannot write the device plugin ConfigMap: " + ex.getCode(), ex);
		}
	}

	private void ensureNamespace(String name) {
		try {
			new CoreV1Api(this.client).readNamespace(name).execute();
		}
		catch (ApiException ex) {
			if (ex.getCode() != 404) {
				throw new IllegalStateException("Cannot read namespace " + name + ": " + ex.getCode(), ex);
			}
			createNamespace(name);
		}
	}

	private void createNamespace(String name) {
		try {
			new CoreV1Api(this.client)
				.createNamespace(
						new V1Namespace().apiVersion("v1").kind("Namespace").metadata(new V1ObjectMeta().name(name)))
				.execute();
		}
		catch (ApiException ex) {
			throw new IllegalStateException("Cannot create namespace " + name + ": " + ex.getCode(), ex);
		}
	}

	/**
	 * Adds a GPU node shared by MPS.
	 * @param name node name
	 * @param gpu its GPUs
	 * @param gpus how many
	 * @param replicas MPS replicas per GPU
	 */
	public void addNode(String name, GpuProfile gpu, int gpus, int replicas) {
		createNode(name, gpu, gpus, replicas);
	}

	private void createNode(String name, GpuProfile gpu, int gpus, int replicas) {
		createNode(name, gpu, gpus, replicas, null);
	}

	private void createNode(String name, GpuProfile gpu, int gpus, int replicas, String profile) {
		createNode(name, gpu, gpus, replicas, profile, "mps");
	}

	private void createNode(String name, GpuProfile gpu, int gpus, int replicas, String profile, String strategy) {
		V1Node node = FleetObjects.gpuNode(name, gpu.product(), gpus, replicas, strategy, gpu.memoryMib());
		if (profile != null) {
			node.getMetadata().getLabels().put(PROFILE_LABEL, profile);
		}
		try {
			new CoreV1Api(this.client).createNode(node).execute();
		}
		catch (ApiException ex) {
			throw new IllegalStateException("Cannot create node " + name + ": " + ex.getCode(), ex);
		}
		addDcgmExporter(name, gpu, gpus, replicas);
	}

	/**
	 * Starts a node's simulated DCGM exporter and creates its pod in the GPU Operator's
	 * namespace (label {@code app=nvidia-dcgm-exporter}, port {@code metrics}), as the
	 * GPU Operator's DaemonSet would.
	 */
	private void addDcgmExporter(String node, GpuProfile gpu, int gpus, int replicas) {
		ensureNamespace(GPU_OPERATOR_NAMESPACE);
		SimulatedDcgmExporter exporter = new SimulatedDcgmExporter(node, gpu.product(), gpus, gpu.memoryMib(),
				DCGM_SAMPLE_PERIOD)
			.start();
		this.exporters.put(node, exporter);
		this.replicasOfNode.put(node, Math.max(1, replicas));
		try {
			new CoreV1Api(this.client)
				.createNamespacedPod(GPU_OPERATOR_NAMESPACE,
						FleetObjects.dcgmExporterPod(GPU_OPERATOR_NAMESPACE, "nvidia-dcgm-exporter-" + node, node,
								"127.0.0.1", exporter.port()))
				.execute();
		}
		catch (ApiException ex) {
			throw new IllegalStateException("Cannot create the DCGM exporter pod of " + node + ": " + ex.getCode(), ex);
		}
	}

	/**
	 * Creates a Ready inference pod (one slice) for a server that runs elsewhere on this
	 * host, such as a benchmark's paced stream server. It is not one of {@link #servers}.
	 * @param name pod name
	 * @param model the model it serves
	 * @param node the node it runs on
	 * @param port the server's local port
	 * @param slots its slots
	 */
	public void registerPod(String name, String model, String node, int port, int slots) {
		try {
			new CoreV1Api(this.client)
				.createNamespacedPod(NAMESPACE,
						FleetObjects.inferencePod(NAMESPACE, name, model, node, "127.0.0.1", port, slots, 1))
				.execute();
		}
		catch (ApiException ex) {
			throw new IllegalStateException("Cannot create pod " + name + ": " + ex.getCode(), ex);
		}
	}

	/**
	 * Starts a simulated server and creates its pod (one slice, Ready).
	 * @param name pod name
	 * @param model the model it serves
	 * @param node the node it runs on
	 * @param slots its slots
	 * @param serviceTime its timing
	 * @return the server
	 */
	public SimulatedInferenceServer addPod(String name, String model, String node, int slots,
			GpuServiceTimeModel serviceTime) {
		SimulatedInferenceServer server = SimulatedInferenceServer.builder(model, serviceTime)
			.slots(slots)
			.seed(name.hashCode())
			.build();
		try {
			server.start();
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		this.servers.put(name, server);
		this.modelOfPod.put(name, model);
		SimulatedDcgmExporter exporter = this.exporters.get(node);
		if (exporter != null) {
			// The device plugin hands out a node's slices GPU after GPU; spread round
			// robin.
			int index = this.podsOnNode.merge(node, 1, Integer::sum) - 1;
			exporter.place(index % exporter.gpus(), NAMESPACE, name, server, 1.0 / this.replicasOfNode.get(node));
		}
		try {
			new CoreV1Api(this.client)
				.createNamespacedPod(NAMESPACE,
						FleetObjects.inferencePod(NAMESPACE, name, model, node, "127.0.0.1", server.port(), slots, 1))
				.execute();
		}
		catch (ApiException ex) {
			throw new IllegalStateException("Cannot create pod " + name + ": " + ex.getCode(), ex);
		}
		return server;
	}

	/**
	 * Deletes a pod that {@link #addPod} made and stops its server.
	 * @param name pod name
	 */
	public void removePod(String name) {
		try {
			new CoreV1Api(this.client).deleteNamespacedPod(name, NAMESPACE).execute();
		}
		catch (ApiException ex) {
			throw new IllegalStateException("Cannot delete pod " + name + ": " + ex.getCode(), ex);
		}
		this.modelOfPod.remove(name);
		SimulatedInferenceServer server = this.servers.remove(name);
		if (server != null) {
			server.close();
		}
	}

	/**
	 * The simulated DCGM exporter of a node.
	 * @param node the node's name
	 * @return its exporter, or {@code null} for an unknown node
	 */
	public SimulatedDcgmExporter dcgmExporter(String node) {
		return this.exporters.get(node);
	}

	/**
	 * Base URL of the Kubernetes API stand-in.
	 * @return {@code http://127.0.0.1:PORT}
	 */
	public String apiServerUrl() {
		return this.kubernetes.url();
	}

	/**
	 * The stand-in, for tests that change the fleet.
	 * @return the Kubernetes API stand-in
	 */
	public KubernetesApiStandIn kubernetes() {
		return this.kubernetes;
	}

	/**
	 * An official client of the stand-in.
	 * @return the client
	 */
	public ApiClient client() {
		return this.client;
	}

	/**
	 * The server behind a pod.
	 * @param pod pod name
	 * @return its server
	 */
	public SimulatedInferenceServer server(String pod) {
		return this.servers.get(pod);
	}

	/**
	 * The servers of one model.
	 * @param model the model
	 * @return its servers in pod-name order
	 */
	public List<SimulatedInferenceServer> servers(String model) {
		List<SimulatedInferenceServer> result = new ArrayList<>();
		this.modelOfPod.forEach((pod, m) -> {
			if (m.equals(model)) {
				result.add(this.servers.get(pod));
			}
		});
		return Collections.unmodifiableList(result);
	}

	/**
	 * Pod names in creation order.
	 * @return the pods
	 */
	public List<String> pods() {
		return List.copyOf(this.servers.keySet());
	}

	@Override
	public void close() {
		this.servers.values().forEach(SimulatedInferenceServer::close);
		this.exporters.values().forEach(SimulatedDcgmExporter::close);
		this.kubernetes.close();
	}

}
