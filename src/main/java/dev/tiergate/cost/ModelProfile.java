package dev.tiergate.cost;

/**
 * What serving one model costs relative to the reference model the {@link GpuProfile} is
 * measured with.
 *
 * @param name the served model name, as clients put it in the {@code model} field
 * @param parametersBillions the parameter count in billions, for display and sanity
 * checks
 * @param costFactor how many times more GPU time a token of this model takes than a token
 * of the reference model, for prefill and decode alike (1 for the reference)
 * @param kvFootprint how many times more KV-cache memory a token of this model takes than
 * a token of the reference model (1 for the reference, 128 KiB per token for Llama 3.1 8B
 * in bf16)
 */
public record ModelProfile(String name, double parametersBillions, double costFactor, double kvFootprint) {

	/**
	 * Validates the profile.
	 * @throws IllegalArgumentException naming the first field that is missing or out of
	 * range
	 */
	public ModelProfile {
		if (name == null || name.isBlank()) {
			throw new IllegalArgumentException("name must not be blank");
		}
		requirePositiveFinite("parametersBillions", parametersBillions);
		requirePositiveFinite("costFactor", costFactor);
		requirePositiveFinite("kvFootprint", kvFootprint);
	}

	/**
	 * Llama 3.1 8B Instruct in bf16, the reference model (cost factor 1, KV footprint 1).
	 * @return the profile
	 */
	public static ModelProfile llama31_8b() {
		return new ModelProfile("llama-3.1-8b-instruct", 8.0, 1.0, 1.0);
	}

	/**
	 * Qwen 2.5 32B Instruct in bf16: three times the GPU time per token of the 8B
	 * reference (about 36 ms per decode step at batch 1 on an A100) and twice its KV
	 * cache per token (64 layers against 32, both with 8 KV heads).
	 * @return the profile
	 */
	public static ModelProfile qwen25_32b() {
		return new ModelProfile("qwen2.5-32b-instruct", 32.0, 3.0, 2.0);
	}

	/**
	 * The memory the weights take in bf16 (two bytes a parameter), which every engine
	 * process (every MPS or time-sliced replica) loads for itself.
	 * @return MiB
	 */
	public double weightsMib() {
		return this.parametersBillions * 2e9 / (1024.0 * 1024.0);
	}

	private static void requirePositiveFinite(String field, double value) {
		if (!(value > 0) || Double.isInfinite(value)) {
			throw new IllegalArgumentException(field + " must be positive and finite, was " + value);
		}
	}

}
