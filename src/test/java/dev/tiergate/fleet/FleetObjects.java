package dev.tiergate.fleet;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import io.kubernetes.client.custom.IntOrString;
import io.kubernetes.client.custom.Quantity;
import io.kubernetes.client.openapi.models.V1Container;
import io.kubernetes.client.openapi.models.V1ContainerPort;
import io.kubernetes.client.openapi.models.V1ContainerState;
import io.kubernetes.client.openapi.models.V1ContainerStateRunning;
import io.kubernetes.client.openapi.models.V1ContainerStatus;
import io.kubernetes.client.openapi.models.V1HTTPGetAction;
import io.kubernetes.client.openapi.models.V1HostIP;
import io.kubernetes.client.openapi.models.V1DaemonSet;
import io.kubernetes.client.openapi.models.V1DaemonSetSpec;
import io.kubernetes.client.openapi.models.V1LabelSelector;
import io.kubernetes.client.openapi.models.V1PodTemplateSpec;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1NodeAddress;
import io.kubernetes.client.openapi.models.V1NodeCondition;
import io.kubernetes.client.openapi.models.V1NodeSpec;
import io.kubernetes.client.openapi.models.V1NodeStatus;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1Pod;
import io.kubernetes.client.openapi.models.V1PodCondition;
import io.kubernetes.client.openapi.models.V1PodIP;
import io.kubernetes.client.openapi.models.V1PodSpec;
import io.kubernetes.client.openapi.models.V1PodStatus;
import io.kubernetes.client.openapi.models.V1Probe;
import io.kubernetes.client.openapi.models.V1ResourceRequirements;

/**
 * Official-client models of a GPU fleet as a real cluster would show it, for
 * {@link KubernetesApiStandIn} and for tests that build informer caches by hand.
 * <p>
 * Every object has {@code apiVersion} and {@code kind} set: the official models leave
 * them null and fabric8's mock rejects such objects. Every object also carries its
 * {@code status} (nodes Ready, pods Running and Ready). The mock keeps the status it is
 * given on create, so creating these objects is enough; a real API server would drop it
 * and needs a follow-up write to the {@code /status} subresource
 * ({@code replaceNamespacedPodStatus}, {@code replaceNodeStatus}, or a patch of
 * {@code /status}), which the stand-in serves too. To change readiness later, replace
 * {@code /status/conditions} with {@link #podConditions(boolean)} by a JSON patch (or
 * replace the status): the stand-in's merge patch appends to arrays instead of replacing
 * them.
 */
public final class FleetObjects {

	/**
	 * Label and resource names NVIDIA's GPU Operator (device plugin and GPU Feature
	 * Discovery) publishes.
	 */
	public static final String GPU_RESOURCE = "nvidia.com/gpu";

	/**
	 * GPU Feature Discovery: the GPU model, e.g. {@code NVIDIA-A100-SXM4-80GB},
	 * {@code -SHARED} when shared.
	 */
	public static final String GPU_PRODUCT_LABEL = "nvidia.com/gpu.product";

	/** GPU Feature Discovery: physical GPUs on the node. */
	public static final String GPU_COUNT_LABEL = "nvidia.com/gpu.count";

	/** GPU Feature Discovery: schedulable replicas of each GPU (1 without sharing). */
	public static final String GPU_REPLICAS_LABEL = "nvidia.com/gpu.replicas";

	/** GPU Feature Discovery: {@code none}, {@code time-slicing} or {@code mps}. */
	public static final String GPU_SHARING_STRATEGY_LABEL = "nvidia.com/gpu.sharing-strategy";

	/** GPU Feature Discovery: memory of one GPU in MiB. */
	public static final String GPU_MEMORY_LABEL = "nvidia.com/gpu.memory";

	/** GPU Operator: {@code true} on nodes with NVIDIA GPUs. */
	public static final String GPU_PRESENT_LABEL = "nvidia.com/gpu.present";

	/** Kubernetes well-known label: the node's hostname. */
	public static final String HOSTNAME_LABEL = "kubernetes.io/hostname";

	/**
	 * Tiergate: the model an inference pod serves (a label value, so at most 63
	 * characters, no slash).
	 */
	public static final String MODEL_LABEL = "tiergate.dev/model";

	/** Tiergate: how many requests an inference pod serves at once. */
	public static final String MAX_CONCURRENCY_ANNOTATION = "tiergate.dev/max-concurrency";

	/** Kubernetes recommended label: the application's name. */
	public static final String APP_NAME_LABEL = "app.kubernetes.io/name";

	/** The name of the serving container and the value of {@link #APP_NAME_LABEL}. */
	public static final String VLLM = "vllm";

	/** The name of the serving container's port. */
	public static final String HTTP_PORT_NAME = "http";

	/** The image of the serving container (not pulled: nothing runs it). */
	public static final String VLLM_IMAGE = "docker.io/vllm/vllm-openai:latest";

	/** Sharing strategies as GPU Feature Discovery names them. */
	public static final Set<String> SHARING_STRATEGIES = Set.of("none", "time-slicing", "mps");

	/** NVIDIA's limit on MPS replicas per GPU. */
	public static final int MAX_MPS_REPLICAS = 48;

	private static final Pattern LABEL_VALUE = Pattern.compile("([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?");

	private FleetObjects() {
	}

	/**
	 * A Ready GPU node labelled as the GPU Operator labels it.
	 * <p>
	 * Capacity and allocatable {@code nvidia.com/gpu} are {@code gpus x replicas} (what
	 * the device plugin advertises); cpu is 8 per GPU (at least 8), memory 64 GiB per GPU
	 * (at least 64 GiB), and 110 pods.
	 * @param name the node's name, also its hostname label
	 * @param product the product label as GPU Feature Discovery publishes it (with
	 * {@code -SHARED} if it does)
	 * @param gpus physical GPUs (0 or more)
	 * @param replicas replicas of each GPU: 1 for {@code none}, at most 48 for
	 * {@code mps}
	 * @param strategy {@code none}, {@code time-slicing} or {@code mps}
	 * @param memoryMiB memory of one GPU in MiB
	 * @return the node, apiVersion {@code v1}, kind {@code Node}
	 * @throws IllegalArgumentException if the arguments describe no node the GPU Operator
	 * would publish
	 */
	public static V1Node gpuNode(String name, String product, int gpus, int replicas, String strategy, long memoryMiB) {
		requireLabelValue("product", product);
		if (gpus < 0 || replicas < 1 || memoryMiB < 0) {
			throw new IllegalArgumentException("gpus and memoryMiB must not be negative, replicas must be positive");
		}
		if (!SHARING_STRATEGIES.contains(strategy)) {
			throw new IllegalArgumentException("strategy must be one of " + SHARING_STRATEGIES + ": " + strategy);
		}
		if ("none".equals(strategy) && replicas != 1) {
			throw new IllegalArgumentException("without sharing each GPU has exactly 1 replica, not " + replicas);
		}
		if ("mps".equals(strategy) && replicas > MAX_MPS_REPLICAS) {
			throw new IllegalArgumentException("MPS allows at most " + MAX_MPS_REPLICAS + " replicas per GPU");
		}
		Map<String, String> labels = new LinkedHashMap<>();
		labels.put(HOSTNAME_LABEL, name);
		labels.put(GPU_PRESENT_LABEL, "true");
		labels.put(GPU_PRODUCT_LABEL, product);
		labels.put(GPU_COUNT_LABEL, Integer.toString(gpus));
		labels.put(GPU_REPLICAS_LABEL, Integer.toString(replicas));
		labels.put(GPU_SHARING_STRATEGY_LABEL, strategy);
		labels.put(GPU_MEMORY_LABEL, Long.toString(memoryMiB));
		int hostGpus = Math.max(gpus, 1);
		Map<String, Quantity> capacity = new LinkedHashMap<>();
		capacity.put("cpu", new Quantity(Integer.toString(8 * hostGpus)));
		capacity.put("memory", new Quantity((64 * hostGpus) + "Gi"));
		capacity.put("pods", new Quantity("110"));
		capacity.put(GPU_RESOURCE, new Quantity(Long.toString((long) gpus * replicas)));
		return new V1Node().apiVersion("v1")
			.kind("Node")
			.metadata(new V1ObjectMeta().name(name).labels(labels))
			.spec(new V1NodeSpec())
			.status(new V1NodeStatus().capacity(capacity)
				.allocatable(new LinkedHashMap<>(capacity))
				.addresses(List.of(new V1NodeAddress().type("Hostname").address(name)))
				.conditions(List.of(new V1NodeCondition().type("Ready")
					.status("True")
					.reason("KubeletReady")
					.message("kubelet is posting ready status"))));
	}

	/**
	 * A Running, Ready vLLM inference pod without a priority class.
	 * @param namespace the pod's namespace
	 * @param name the pod's name
	 * @param model the model it serves, a label value
	 * @param nodeName the node it runs on
	 * @param podIp its IP
	 * @param port its serving port, named {@code http}
	 * @param maxConcurrency its slots
	 * @param gpuSlices the {@code nvidia.com/gpu} units it requests (and limits to)
	 * @return the pod, apiVersion {@code v1}, kind {@code Pod}
	 * @see #inferencePod(String, String, String, String, String, int, int, int, String)
	 */
	public static V1Pod inferencePod(String namespace, String name, String model, String nodeName, String podIp,
			int port, int maxConcurrency, int gpuSlices) {
		return inferencePod(namespace, name, model, nodeName, podIp, port, maxConcurrency, gpuSlices, null);
	}

	/**
	 * A Running, Ready vLLM inference pod.
	 * <p>
	 * Labels {@code tiergate.dev/model=<model>} and {@code app.kubernetes.io/name=vllm},
	 * annotation {@code tiergate.dev/max-concurrency}, one container {@code vllm} (port
	 * {@code http}, {@code nvidia.com/gpu} requested and limited to {@code gpuSlices}, a
	 * readiness probe on {@code /health}), scheduled on {@code nodeName}; status phase
	 * Running with podIP, hostIP (127.0.0.1, as in the embedded fleet whose servers run
	 * on local ports), conditions PodScheduled, Initialized, ContainersReady and Ready
	 * all True, and a ready, running container status. Only
	 * {@code spec.priorityClassName} is set; the admission controller that would fill
	 * {@code spec.priority} from it does not run in the stand-in.
	 * @param namespace the pod's namespace
	 * @param name the pod's name
	 * @param model the model it serves, a label value (at most 63 characters, no slash)
	 * @param nodeName the node it runs on
	 * @param podIp its IP
	 * @param port its serving port, named {@code http}
	 * @param maxConcurrency its slots (positive)
	 * @param gpuSlices the {@code nvidia.com/gpu} units it requests (positive)
	 * @param priorityClassName its PriorityClass, or {@code null} for none
	 * @return the pod, apiVersion {@code v1}, kind {@code Pod}
	 * @throws IllegalArgumentException if the model is not a valid label value or a
	 * number is out of range
	 */
	public static V1Pod inferencePod(String namespace, String name, String model, String nodeName, String podIp,
			int port, int maxConcurrency, int gpuSlices, String priorityClassName) {
		requireLabelValue("model", model);
		if (port < 1 || port > 65535 || maxConcurrency < 1 || gpuSlices < 1) {
			throw new IllegalArgumentException("port must be 1-65535, maxConcurrency and gpuSlices positive");
		}
		Map<String, String> labels = new LinkedHashMap<>();
		labels.put(APP_NAME_LABEL, VLLM);
		labels.put(MODEL_LABEL, model);
		Map<String, Quantity> gpus = Map.of(GPU_RESOURCE, new Quantity(Integer.toString(gpuSlices)));
		V1Container container = new V1Container().name(VLLM)
			.image(VLLM_IMAGE)
			.args(List.of("--served-model-name", model, "--port", Integer.toString(port), "--max-num-seqs",
					Integer.toString(maxConcurrency), "--scheduling-policy", "priority"))
			.ports(List.of(new V1ContainerPort().name(HTTP_PORT_NAME).containerPort(port).protocol("TCP")))
			.resources(
					new V1ResourceRequirements().requests(new LinkedHashMap<>(gpus)).limits(new LinkedHashMap<>(gpus)))
			.readinessProbe(
					new V1Probe().httpGet(new V1HTTPGetAction().path("/health").port(new IntOrString(HTTP_PORT_NAME))));
		String hostIp = "127.0.0.1";
		return new V1Pod().apiVersion("v1")
			.kind("Pod")
			.metadata(new V1ObjectMeta().namespace(namespace)
				.name(name)
				.labels(labels)
				.annotations(Map.of(MAX_CONCURRENCY_ANNOTATION, Integer.toString(maxConcurrency))))
			.spec(new V1PodSpec().nodeName(nodeName)
				.priorityClassName(priorityClassName)
				.containers(List.of(container)))
			.status(new V1PodStatus().phase("Running")
				.podIP(podIp)
				.podIPs(List.of(new V1PodIP().ip(podIp)))
				.hostIP(hostIp)
				.hostIPs(List.of(new V1HostIP().ip(hostIp)))
				.conditions(podConditions(true))
				.containerStatuses(List.of(new V1ContainerStatus().name(VLLM)
					.image(VLLM_IMAGE)
					.imageID("")
					.ready(true)
					.started(true)
					.restartCount(0)
					.state(new V1ContainerState().running(new V1ContainerStateRunning())))));
	}

	/**
	 * The conditions of a scheduled, initialized pod whose containers are (or are not)
	 * ready, in the order the kubelet writes them. Handy for a merge patch of
	 * {@code /status} that flips readiness.
	 * @param ready whether ContainersReady and Ready are True
	 * @return PodScheduled, Initialized, ContainersReady and Ready
	 */
	public static List<V1PodCondition> podConditions(boolean ready) {
		String readiness = ready ? "True" : "False";
		return List.of(new V1PodCondition().type("PodScheduled").status("True"),
				new V1PodCondition().type("Initialized").status("True"),
				new V1PodCondition().type("ContainersReady").status(readiness),
				new V1PodCondition().type("Ready").status(readiness));
	}

	private static void requireLabelValue(String what, String value) {
		if (value == null || value.length() > 63 || !LABEL_VALUE.matcher(value).matches()) {
			throw new IllegalArgumentException(what + " must be a label value (at most 63 characters of A-Z, a-z, "
					+ "0-9, '-', '_', '.', starting and ending alphanumeric): " + value);
		}
	}

	/**
	 * The NVIDIA device plugin's DaemonSet as the GPU Operator deploys it, for sharing
	 * profiles to restart.
	 * @param namespace its namespace (the GPU Operator's, {@code gpu-operator} by
	 * default)
	 * @param name its name ({@code nvidia-device-plugin-daemonset} by default)
	 * @return the DaemonSet, apiVersion {@code apps/v1}, kind {@code DaemonSet}
	 */
	public static V1DaemonSet devicePluginDaemonSet(String namespace, String name) {
		Map<String, String> labels = Map.of("app", name);
		return new V1DaemonSet().apiVersion("apps/v1")
			.kind("DaemonSet")
			.metadata(new V1ObjectMeta().name(name).namespace(namespace))
			.spec(new V1DaemonSetSpec().selector(new V1LabelSelector().matchLabels(labels))
				.template(new V1PodTemplateSpec().metadata(new V1ObjectMeta().labels(labels))
					.spec(new V1PodSpec().containers(List.of(new V1Container().name("nvidia-device-plugin")
						.image("nvcr.io/nvidia/k8s-device-plugin:v0.17.0"))))));
	}

	/**
	 * One pod of the GPU Operator's DCGM exporter DaemonSet, Running and Ready on a node:
	 * label {@code app=nvidia-dcgm-exporter}, container {@code nvidia-dcgm-exporter} with
	 * its port named {@code metrics}.
	 * @param namespace the GPU Operator's namespace
	 * @param name the pod's name
	 * @param nodeName the node it runs on
	 * @param podIp its IP
	 * @param port its metrics port (9400 in a real cluster)
	 * @return the pod, apiVersion {@code v1}, kind {@code Pod}
	 */
	public static V1Pod dcgmExporterPod(String namespace, String name, String nodeName, String podIp, int port) {
		String image = "nvcr.io/nvidia/k8s/dcgm-exporter:3.3.8-3.6.0-ubuntu22.04";
		return new V1Pod().apiVersion("v1")
			.kind("Pod")
			.metadata(new V1ObjectMeta().namespace(namespace)
				.name(name)
				.labels(new LinkedHashMap<>(Map.of("app", "nvidia-dcgm-exporter"))))
			.spec(new V1PodSpec().nodeName(nodeName)
				.containers(List.of(new V1Container().name("nvidia-dcgm-exporter")
					.image(image)
					.ports(List.of(new V1ContainerPort().name("metrics").containerPort(port).protocol("TCP"))))))
			.status(new V1PodStatus().phase("Running")
				.podIP(podIp)
				.podIPs(List.of(new V1PodIP().ip(podIp)))
				.hostIP("127.0.0.1")
				.conditions(podConditions(true))
				.containerStatuses(List.of(new V1ContainerStatus().name("nvidia-dcgm-exporter")
					.image(image)
					.imageID("")
					.ready(true)
					.started(true)
					.restartCount(0)
					.state(new V1ContainerState().running(new V1ContainerStateRunning())))));
	}

}
