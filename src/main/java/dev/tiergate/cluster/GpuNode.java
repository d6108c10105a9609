package dev.tiergate.cluster;

/**
 * A node as the NVIDIA GPU Operator publishes it: GPUs, how they are shared, and how many
 * slices that gives.
 *
 * @param name node name
 * @param product GPU product ({@code nvidia.com/gpu.product}), or {@code ""} for a node
 * without GPUs
 * @param gpus physical GPUs ({@code nvidia.com/gpu.count})
 * @param replicas slices per GPU ({@code nvidia.com/gpu.replicas}, 1 when not shared)
 * @param sharingStrategy {@code none}, {@code time-slicing} or {@code mps}
 * @param gpuMemoryMiB memory of one GPU in MiB ({@code nvidia.com/gpu.memory})
 * @param sliceCapacity capacity of {@code nvidia.com/gpu} (GPUs x replicas)
 * @param sliceAllocatable allocatable {@code nvidia.com/gpu}
 * @param ready whether the node's Ready condition is true
 */
public record GpuNode(String name, String product, int gpus, int replicas, String sharingStrategy, long gpuMemoryMiB,
		int sliceCapacity, int sliceAllocatable, boolean ready) {

}
