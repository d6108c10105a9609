package dev.tiergate.web;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import dev.tiergate.cluster.SliceInventory;

/**
 * The overview's picture of the slices: per node its GPUs, per GPU its slices, each slice
 * coloured by the tier of the pod holding it and marked busy when that pod has requests
 * in flight. Pods fill slices in order, GPU by GPU.
 *
 * @param nodes one entry per node
 */
record SlicePicture(List<Node> nodes) {

	static SlicePicture of(SliceInventoryService.Slices slices) {
		Map<String, Integer> inFlight = new HashMap<>();
		slices.endpoints().forEach((e) -> inFlight.put(e.endpoint(), e.inUse()));
		List<Node> nodes = new ArrayList<>();
		for (SliceInventory.NodeSlices node : slices.nodes()) {
			List<Cell> cells = new ArrayList<>();
			for (SliceInventory.PodSlices pod : node.pods()) {
				boolean busy = inFlight.getOrDefault(pod.pod(), 0) > 0;
				for (int i = 0; i < pod.slices(); i++) {
					cells.add(new Cell("slice tier-" + pod.tier().toLowerCase(Locale.ROOT) + (busy ? " busy" : " idle"),
							pod.pod() + " (" + pod.model() + ", " + pod.tier() + ", "
									+ inFlight.getOrDefault(pod.pod(), 0) + " in flight)"));
				}
			}
			int replicas = Math.max(1, node.replicas());
			List<Gpu> gpus = new ArrayList<>();
			for (int g = 0; g < node.gpus(); g++) {
				List<Cell> gpuCells = new ArrayList<>();
				for (int r = 0; r < replicas; r++) {
					int index = g * replicas + r;
					gpuCells.add((index < cells.size()) ? cells.get(index) : new Cell("slice free", "free"));
				}
				gpus.add(new Gpu(g, gpuCells));
			}
			nodes.add(new Node(node.node(), node.product(), node.strategy(), node.replicas(), node.requested(),
					node.capacity(), gpus));
		}
		return new SlicePicture(nodes);
	}

	/**
	 * A node.
	 *
	 * @param name node name
	 * @param product GPU product
	 * @param strategy sharing strategy
	 * @param replicas slices per GPU
	 * @param requested slices requested
	 * @param capacity slice capacity
	 * @param gpus its GPUs
	 */
	record Node(String name, String product, String strategy, int replicas, int requested, int capacity,
			List<Gpu> gpus) {
	}

	/**
	 * A physical GPU.
	 *
	 * @param index GPU index on the node
	 * @param slices its slices
	 */
	record Gpu(int index, List<Cell> slices) {
	}

	/**
	 * One slice.
	 *
	 * @param css its CSS classes: {@code slice}, the tier ({@code tier-p0}...) or
	 * {@code free}, {@code busy} or {@code idle}
	 * @param title what it holds
	 */
	record Cell(String css, String title) {
	}

}
