package dev.tiergate.cluster;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * GPU slices per node and for the whole cluster: what exists, what pods request (by
 * PriorityClass and by tier), and what is free. Pods are the inference pods Tiergate
 * watches.
 *
 * @param nodes per node, sorted by name
 * @param totals the cluster's sums
 */
public record SliceInventory(List<NodeSlices> nodes, Totals totals) {

	/** Tier name used for pods whose PriorityClass belongs to no tier. */
	public static final String NO_TIER = "none";

	/**
	 * Computes the inventory.
	 * @param nodes the nodes
	 * @param pods the inference pods
	 * @param tierOfClass the tier a PriorityClass name carries, or {@code null} for none
	 * @return the inventory
	 */
	public static SliceInventory of(List<GpuNode> nodes, List<InferencePod> pods,
			Function<String, String> tierOfClass) {
		Map<String, List<InferencePod>> byNode = new TreeMap<>();
		for (InferencePod pod : pods) {
			if (!pod.nodeName().isEmpty() && pod.slices() > 0) {
				byNode.computeIfAbsent(pod.nodeName(), (k) -> new ArrayList<>()).add(pod);
			}
		}
		List<NodeSlices> result = new ArrayList<>();
		for (GpuNode node : nodes.stream().sorted(Comparator.comparing(GpuNode::name)).toList()) {
			Map<String, Integer> byClass = new TreeMap<>();
			Map<String, Integer> byTier = new TreeMap<>();
			List<PodSlices> podSlices = new ArrayList<>();
			int requested = 0;
			for (InferencePod pod : byNode.getOrDefault(node.name(), List.of())) {
				String tier = tierOf(tierOfClass, pod.priorityClass());
				requested += pod.slices();
				byClass.merge(pod.priorityClass().isEmpty() ? "" : pod.priorityClass(), pod.slices(), Integer::sum);
				byTier.merge(tier, pod.slices(), Integer::sum);
				podSlices.add(new PodSlices(pod.key(), pod.model(), pod.priorityClass(), tier, pod.slices()));
			}
			result.add(new NodeSlices(node.name(), node.product(), node.gpus(), node.sharingStrategy(), node.replicas(),
					node.sliceCapacity(), node.sliceAllocatable(), requested, byClass, byTier,
					Math.max(0, node.sliceAllocatable() - requested), podSlices));
		}
		int gpus = result.stream().mapToInt(NodeSlices::gpus).sum();
		int capacity = result.stream().mapToInt(NodeSlices::capacity).sum();
		int allocatable = result.stream().mapToInt(NodeSlices::allocatable).sum();
		int requested = result.stream().mapToInt(NodeSlices::requested).sum();
		int free = result.stream().mapToInt(NodeSlices::free).sum();
		Map<String, Integer> byTier = new TreeMap<>();
		result.forEach((n) -> n.requestedByTier().forEach((t, c) -> byTier.merge(t, c, Integer::sum)));
		double utilization = (allocatable > 0) ? Math.round(1000.0 * requested / allocatable) / 10.0 : 0.0;
		return new SliceInventory(List.copyOf(result),
				new Totals(result.size(), gpus, capacity, allocatable, requested, byTier, free, utilization));
	}

	private static String tierOf(Function<String, String> tierOfClass, String priorityClass) {
		String tier = priorityClass.isEmpty() ? null : tierOfClass.apply(priorityClass);
		return (tier != null) ? tier : NO_TIER;
	}

	/**
	 * Slices of one node.
	 *
	 * @param node node name
	 * @param product GPU product
	 * @param gpus physical GPUs
	 * @param strategy sharing strategy ({@code none}, {@code time-slicing}, {@code mps})
	 * @param replicas slices per GPU
	 * @param capacity capacity of {@code nvidia.com/gpu}
	 * @param allocatable allocatable {@code nvidia.com/gpu}
	 * @param requested slices requested by the pods on it
	 * @param requestedByPriorityClass requested slices by PriorityClass ({@code ""} for
	 * none)
	 * @param requestedByTier requested slices by tier ({@value #NO_TIER} for none)
	 * @param free allocatable minus requested (not below 0)
	 * @param pods the pods on it and their slices
	 */
	public record NodeSlices(String node, String product, int gpus, String strategy, int replicas, int capacity,
			int allocatable, int requested, Map<String, Integer> requestedByPriorityClass,
			Map<String, Integer> requestedByTier, int free, List<PodSlices> pods) {
	}

	/**
	 * One pod's slices.
	 *
	 * @param pod {@code namespace/name}
	 * @param model the model it serves
	 * @param priorityClass its PriorityClass or {@code ""}
	 * @param tier its tier or {@value #NO_TIER}
	 * @param slices slices it requests
	 */
	public record PodSlices(String pod, String model, String priorityClass, String tier, int slices) {
	}

	/**
	 * Cluster totals.
	 *
	 * @param nodes nodes
	 * @param gpus physical GPUs
	 * @param capacity slice capacity
	 * @param allocatable allocatable slices
	 * @param requested slices requested by pods
	 * @param requestedByTier requested slices by tier
	 * @param free free slices
	 * @param utilizationPercent requested / allocatable, in percent with one decimal
	 */
	public record Totals(int nodes, int gpus, int capacity, int allocatable, int requested,
			Map<String, Integer> requestedByTier, int free, double utilizationPercent) {
	}

}
