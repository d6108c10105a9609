package dev.tiergate.cost;

import java.time.Duration;

/**
 * What one physical GPU can do for the {@link GpuServiceTimeModel}, measured for the
 * reference model (a {@link ModelProfile} with cost factor 1 and KV footprint 1, such as
 * Llama 3.1 8B in bf16) running alone on the whole GPU.
 * <p>
 * Decode time per token grows with the number of sequences decoded together:
 * {@code decodeTimePerToken * (1 + decodeBatchGrowth * (sequencesInFlight - 1))}. A
 * growth below 1 makes batching pay off: each step gets slower, but the GPU produces more
 * tokens per second in total.
 *
 * @param product the product name as the GPU Operator labels it
 * ({@code nvidia.com/gpu.product}), for example {@code NVIDIA-A100-SXM4-80GB}
 * @param memoryMib the GPU's memory in MiB ({@code nvidia.com/gpu.memory})
 * @param prefillTokensPerSecond prompt tokens processed per second with the whole GPU
 * @param decodeTimePerToken time of one decode step (one new token) with a single
 * sequence in flight
 * @param decodeBatchGrowth how much slower a decode step gets for each further sequence
 * in flight, zero or more
 * @param kvCacheTokens how many tokens of the reference model the KV cache of the whole
 * GPU holds
 */
public record GpuProfile(String product, long memoryMib, double prefillTokensPerSecond, Duration decodeTimePerToken,
		double decodeBatchGrowth, long kvCacheTokens) {

	/**
	 * Validates the profile.
	 * @throws IllegalArgumentException naming the first field that is missing or out of
	 * range
	 */
	public GpuProfile {
		if (product == null || product.isBlank()) {
			throw new IllegalArgumentException("product must not be blank");
		}
		if (memoryMib <= 0) {
			throw new IllegalArgumentException("memoryMib must be positive, was " + memoryMib);
		}
		if (!(prefillTokensPerSecond > 0) || Double.isInfinite(prefillTokensPerSecond)) {
			throw new IllegalArgumentException(
					"prefillTokensPerSecond must be positive and finite, was " + prefillTokensPerSecond);
		}
		if (decodeTimePerToken == null || decodeTimePerToken.isNegative() || decodeTimePerToken.isZero()) {
			throw new IllegalArgumentException("decodeTimePerToken must be positive, was " + decodeTimePerToken);
		}
		if (!(decodeBatchGrowth >= 0) || Double.isInfinite(decodeBatchGrowth)) {
			throw new IllegalArgumentException(
					"decodeBatchGrowth must be zero or more and finite, was " + decodeBatchGrowth);
		}
		if (kvCacheTokens <= 0) {
			throw new IllegalArgumentException("kvCacheTokens must be positive, was " + kvCacheTokens);
		}
	}

	/**
	 * An NVIDIA A100 SXM4 with 80 GB, serving an 8B model in bf16 with vLLM.
	 * <p>
	 * Ballpark figures: about 10,000 prompt tokens/s of prefill, 12 ms per decode step at
	 * batch 1, a step about 2% slower per further sequence (so 64 sequences decode at
	 * about 27 ms per step), and a KV cache of about 467,000 tokens ((0.9 × 80 GiB − 15
	 * GiB of weights) / 128 KiB per token).
	 * @return the A100 80GB profile
	 */
	public static GpuProfile a100Sxm80gb() {
		return new GpuProfile("NVIDIA-A100-SXM4-80GB", 81_920, 10_000, Duration.ofMillis(12), 0.02, 467_000);
	}

}
