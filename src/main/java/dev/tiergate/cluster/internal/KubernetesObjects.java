package dev.tiergate.cluster.internal;

import java.util.List;
import java.util.Map;
import java.util.Objects;

import dev.tiergate.cluster.GpuExporter;
import dev.tiergate.cluster.GpuNode;
import dev.tiergate.cluster.InferencePod;
import io.kubernetes.client.custom.Quantity;
import io.kubernetes.client.openapi.models.V1Container;
import io.kubernetes.client.openapi.models.V1ContainerPort;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1NodeCondition;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1Pod;
import io.kubernetes.client.openapi.models.V1PodCondition;
import io.kubernetes.client.openapi.models.V1ResourceRequirements;

/**
 * Maps official client models to the cluster module's records. Everything here tolerates
 * missing fields: the API server omits what is empty.
 */
final class KubernetesObjects {

	static final String GPU = "nvidia.com/gpu";

	static final String GPU_SHARED = "nvidia.com/gpu.shared";

	static final String MAX_CONCURRENCY = "tiergate.dev/max-concurrency";

	private KubernetesObjects() {
	}

	static GpuNode node(V1Node node) {
		V1ObjectMeta meta = Objects.requireNonNullElseGet(node.getMetadata(), V1ObjectMeta::new);
		Map<String, String> labels = orEmpty(meta.getLabels());
		Map<String, Quantity> capacity = node.getStatus() != null ? orEmpty(node.getStatus().getCapacity()) : Map.of();
		Map<String, Quantity> allocatable = node.getStatus() != null ? orEmpty(node.getStatus().getAllocatable())
				: Map.of();
		List<V1NodeCondition> conditions = node.getStatus() != null ? orEmpty(node.getStatus().getConditions())
				: List.of();
		boolean ready = conditions.stream()
			.anyMatch((c) -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
		int gpus = parseInt(labels.get("nvidia.com/gpu.count"), 0);
		int replicas = parseInt(labels.get("nvidia.com/gpu.replicas"), gpus > 0 ? 1 : 0);
		String strategy = labels.getOrDefault("nvidia.com/gpu.sharing-strategy", gpus > 0 ? "none" : "");
		return new GpuNode(nullToEmpty(meta.getName()), labels.getOrDefault("nvidia.com/gpu.product", ""), gpus,
				replicas, strategy, parseLong(labels.get("nvidia.com/gpu.memory"), 0), quantity(capacity.get(GPU)),
				quantity(allocatable.get(GPU)), ready);
	}

	static GpuExporter exporter(V1Pod pod, int defaultPort, String path) {
		V1ObjectMeta meta = Objects.requireNonNullElseGet(pod.getMetadata(), V1ObjectMeta::new);
		List<V1Container> containers = pod.getSpec() != null ? orEmpty(pod.getSpec().getContainers()) : List.of();
		int port = containers.stream()
			.flatMap((c) -> orEmpty(c.getPorts()).stream())
			.filter((p) -> "metrics".equals(p.getName()))
			.map(V1ContainerPort::getContainerPort)
			.filter(Objects::nonNull)
			.findFirst()
			.orElse(defaultPort);
		String nodeName = pod.getSpec() != null ? nullToEmpty(pod.getSpec().getNodeName()) : "";
		String podIp = pod.getStatus() != null ? nullToEmpty(pod.getStatus().getPodIP()) : "";
		List<V1PodCondition> conditions = pod.getStatus() != null ? orEmpty(pod.getStatus().getConditions())
				: List.of();
		boolean ready = conditions.stream()
			.anyMatch((c) -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
		return new GpuExporter(nullToEmpty(meta.getNamespace()), nullToEmpty(meta.getName()), nodeName, podIp, port,
				path, ready, meta.getDeletionTimestamp() != null);
	}

	static InferencePod pod(V1Pod pod, String modelLabel, int defaultPort) {
		V1ObjectMeta meta = Objects.requireNonNullElseGet(pod.getMetadata(), V1ObjectMeta::new);
		// A label removed by a merge patch may linger as a key with a null value.
		String model = nullToEmpty(orEmpty(meta.getLabels()).get(modelLabel));
		int maxConcurrency = parseInt(orEmpty(meta.getAnnotations()).get(MAX_CONCURRENCY), 0);
		List<V1Container> containers = pod.getSpec() != null ? orEmpty(pod.getSpec().getContainers()) : List.of();
		int port = containers.stream()
			.flatMap((c) -> orEmpty(c.getPorts()).stream())
			.filter((p) -> "http".equals(p.getName()))
			.map(V1ContainerPort::getContainerPort)
			.filter(Objects::nonNull)
			.findFirst()
			.orElse(defaultPort);
		int slices = containers.stream().mapToInt(KubernetesObjects::slices).sum();
		String nodeName = pod.getSpec() != null ? nullToEmpty(pod.getSpec().getNodeName()) : "";
		String priorityClass = pod.getSpec() != null ? nullToEmpty(pod.getSpec().getPriorityClassName()) : "";
		String podIp = pod.getStatus() != null ? nullToEmpty(pod.getStatus().getPodIP()) : "";
		List<V1PodCondition> conditions = pod.getStatus() != null ? orEmpty(pod.getStatus().getConditions())
				: List.of();
		boolean ready = conditions.stream()
			.anyMatch((c) -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
		return new InferencePod(nullToEmpty(meta.getNamespace()), nullToEmpty(meta.getName()),
				nullToEmpty(meta.getUid()), model, nodeName, podIp, port, maxConcurrency, slices, priorityClass, ready,
				meta.getDeletionTimestamp() != null,
				containers.stream().anyMatch(KubernetesObjects::priorityScheduling));
	}

	/**
	 * Whether the container starts vLLM with {@code --scheduling-policy priority} (or
	 * {@code --scheduling-policy=priority}) in its command or arguments.
	 */
	static boolean priorityScheduling(V1Container container) {
		List<String> words = new java.util.ArrayList<>(orEmpty(container.getCommand()));
		words.addAll(orEmpty(container.getArgs()));
		for (int i = 0; i < words.size(); i++) {
			String word = (words.get(i) != null) ? words.get(i).trim() : "";
			if (word.equals("--scheduling-policy=priority") || (word.equals("--scheduling-policy")
					&& i + 1 < words.size() && "priority".equals(words.get(i + 1)))) {
				return true;
			}
			// A shell line (sh -c "vllm serve ... --scheduling-policy priority").
			if (word.contains(" ") && (word.contains("--scheduling-policy priority")
					|| word.contains("--scheduling-policy=priority"))) {
				return true;
			}
		}
		return false;
	}

	private static int slices(V1Container container) {
		V1ResourceRequirements resources = container.getResources();
		if (resources == null) {
			return 0;
		}
		Map<String, Quantity> requests = orEmpty(resources.getRequests());
		Map<String, Quantity> limits = orEmpty(resources.getLimits());
		for (String name : List.of(GPU, GPU_SHARED)) {
			Quantity q = requests.containsKey(name) ? requests.get(name) : limits.get(name);
			if (q != null) {
				return quantity(q);
			}
		}
		return 0;
	}

	static int quantity(Quantity quantity) {
		return (quantity != null) ? quantity.getNumber().intValue() : 0;
	}

	private static int parseInt(String value, int fallback) {
		try {
			return (value != null) ? Integer.parseInt(value.trim()) : fallback;
		}
		catch (NumberFormatException ex) {
			return fallback;
		}
	}

	private static long parseLong(String value, long fallback) {
		try {
			return (value != null) ? Long.parseLong(value.trim()) : fallback;
		}
		catch (NumberFormatException ex) {
			return fallback;
		}
	}

	private static String nullToEmpty(String value) {
		return (value != null) ? value : "";
	}

	private static <K, V> Map<K, V> orEmpty(Map<K, V> map) {
		return (map != null) ? map : Map.of();
	}

	private static <T> List<T> orEmpty(List<T> list) {
		return (list != null) ? list : List.of();
	}

}
