package dev.tiergate.cost;

import java.util.List;
import java.util.Map;

/**
 * The GPU products and models the simulator knows, by the names the GPU Operator and
 * clients use. Their constants and sources are documented on {@link GpuProfile} and
 * {@link ModelProfile} and in {@code docs/cost-model.md}.
 */
public final class Catalog {

	private static final Map<String, GpuProfile> GPUS = Map.of(GpuProfile.a100Sxm80gb().product(),
			GpuProfile.a100Sxm80gb());

	private static final Map<String, ModelProfile> MODELS = Map.of(ModelProfile.llama31_8b().name(),
			ModelProfile.llama31_8b(), ModelProfile.qwen25_32b().name(), ModelProfile.qwen25_32b());

	/** The share of GPU memory vLLM uses ({@code --gpu-memory-utilization} 0.9). */
	public static final double GPU_MEMORY_UTILIZATION = 0.9;

	/** KV-cache bytes a token of the reference model takes (Llama 3.1 8B, bf16). */
	public static final double REFERENCE_KV_BYTES_PER_TOKEN = 128 * 1024;

	private Catalog() {
	}

	/**
	 * A GPU product.
	 * @param product as the GPU Operator labels it
	 * @return its profile
	 * @throws IllegalArgumentException naming the known products
	 */
	public static GpuProfile gpu(String product) {
		GpuProfile gpu = GPUS.get(product);
		if (gpu == null) {
			throw new IllegalArgumentException("unknown GPU product '" + product + "'; known: " + gpus());
		}
		return gpu;
	}

	/**
	 * A model.
	 * @param name as clients name it
	 * @return its profile
	 * @throws IllegalArgumentException naming the known models
	 */
	public static ModelProfile model(String name) {
		ModelProfile model = MODELS.get(name);
		if (model == null) {
			throw new IllegalArgumentException("unknown model '" + name + "'; known: " + models());
		}
		return model;
	}

	/**
	 * The known GPU products.
	 * @return product names, sorted
	 */
	public static List<String> gpus() {
		return GPUS.keySet().stream().sorted().toList();
	}

	/**
	 * The known models.
	 * @return model names, sorted
	 */
	public static List<String> models() {
		return MODELS.keySet().stream().sorted().toList();
	}

	/**
	 * The KV cache of one slice, once its engine process has loaded its own copy of the
	 * weights: {@code (memory x 0.9 / replicas - weights) / KV bytes per token}. Zero or
	 * less means the model does not fit the slice.
	 * @param gpu the GPU
	 * @param model the model
	 * @param share the slice
	 * @return tokens of the model, possibly zero or negative
	 */
	public static long sliceKvCapacityTokens(GpuProfile gpu, ModelProfile model, SliceShare share) {
		double freeMib = gpu.memoryMib() * GPU_MEMORY_UTILIZATION * share.memoryShare() - model.weightsMib();
		return (long) Math.floor(freeMib * 1024 * 1024 / (REFERENCE_KV_BYTES_PER_TOKEN * model.kvFootprint()));
	}

}
