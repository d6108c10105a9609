package dev.tiergate.cost;

import java.time.Duration;

/**
 * How long one endpoint, serving one model on one slice of a GPU, takes to serve a
 * request.
 * <p>
 * A request is served in two phases, as a continuous-batching engine such as vLLM serves
 * it:
 * <ul>
 * <li><b>prefill</b> processes the whole prompt at the slice's prefill rate:
 * {@code promptTokens * costFactor / (prefillTokensPerSecond * throughputShare)};</li>
 * <li><b>decode</b> produces one token per step for every sequence in flight; a step
 * takes
 * {@code decodeTimePerToken * costFactor * (1 + decodeBatchGrowth * (sequencesInFlight - 1)) / throughputShare}.</li>
 * </ul>
 * The first token comes out of the first decode step after the prefill, so
 * {@code timeToFirstToken = prefill + one step} and
 * {@code totalTime = prefill + completionTokens steps}. Every time is multiplied by
 * {@link #timeScale()}, so that demos can run faster than real time (0.1 is ten times
 * faster).
 * <p>
 * The model is a pure function of its inputs: it does no I/O, reads no clock and keeps no
 * state, so the live simulated fleet and the trace-driven simulator can share it.
 *
 * @param gpu the physical GPU
 * @param model the served model
 * @param share the part of the GPU the endpoint's slice gets
 * @param timeScale the factor every time is multiplied by: 1 is real time, less is faster
 */
public record GpuServiceTimeModel(GpuProfile gpu, ModelProfile model, SliceShare share, double timeScale) {

	private static final double NANOS_PER_SECOND = 1_000_000_000.0;

	/**
	 * Validates the model.
	 * @throws IllegalArgumentException naming the field that is missing or out of range
	 */
	public GpuServiceTimeModel {
		if (gpu == null) {
			throw new IllegalArgumentException("gpu must not be null");
		}
		if (model == null) {
			throw new IllegalArgumentException("model must not be null");
		}
		if (share == null) {
			throw new IllegalArgumentException("share must not be null");
		}
		if (!(timeScale > 0) || Double.isInfinite(timeScale)) {
			throw new IllegalArgumentException("timeScale must be positive and finite, was " + timeScale);
		}
	}

	/**
	 * A model that runs in real time.
	 * @param gpu the physical GPU
	 * @param model the served model
	 * @param share the part of the GPU the endpoint's slice gets
	 */
	public GpuServiceTimeModel(GpuProfile gpu, ModelProfile model, SliceShare share) {
		this(gpu, model, share, 1.0);
	}

	/**
	 * The same model with another time scale.
	 * @param timeScale the factor every time is multiplied by: 1 is real time, less is
	 * faster
	 * @return the rescaled model
	 */
	public GpuServiceTimeModel withTimeScale(double timeScale) {
		return new GpuServiceTimeModel(this.gpu, this.model, this.share, timeScale);
	}

	/**
	 * The time to process a prompt.
	 * @param promptTokens the prompt's length in tokens, zero or more
	 * @return the prefill time
	 */
	public Duration prefillTime(long promptTokens) {
		requireAtLeast("promptTokens", promptTokens, 0);
		return Duration.ofNanos(Math.round(rawPrefillNanos(promptTokens)));
	}

	/**
	 * The time of one decode step, which produces one token for each sequence in flight.
	 * @param sequencesInFlight the sequences decoded together, counting the one asked
	 * about, 1 or more
	 * @return the decode step time
	 */
	public Duration decodeStepTime(int sequencesInFlight) {
		requireAtLeast("sequencesInFlight", sequencesInFlight, 1);
		return Duration.ofNanos(Math.round(decodeStepNanos(sequencesInFlight)));
	}

	/**
	 * The time from admission to the first generated token: the prefill and one decode
	 * step.
	 * @param promptTokens the prompt's length in tokens, zero or more
	 * @param sequencesInFlight the sequences decoded together, counting the one asked
	 * about, 1 or more
	 * @return the time to first token
	 */
	public Duration timeToFirstToken(long promptTokens, int sequencesInFlight) {
		return totalTime(promptTokens, 1, sequencesInFlight);
	}

	/**
	 * The time from admission to the last generated token, with the batch staying the
	 * same size throughout.
	 * @param promptTokens the prompt's length in tokens, zero or more
	 * @param completionTokens the tokens generated, zero or more
	 * @param sequencesInFlight the sequences decoded together, counting the one asked
	 * about, 1 or more
	 * @return the total service time
	 */
	public Duration totalTime(long promptTokens, long completionTokens, int sequencesInFlight) {
		requireAtLeast("promptTokens", promptTokens, 0);
		requireAtLeast("completionTokens", completionTokens, 0);
		requireAtLeast("sequencesInFlight", sequencesInFlight, 1);
		return Duration
			.ofNanos(Math.round(rawPrefillNanos(promptTokens) + completionTokens * decodeStepNanos(sequencesInFlight)));
	}

	/**
	 * How many tokens the slice's KV cache holds for this model.
	 * @return the capacity in tokens, at least 1
	 */
	public long kvCacheCapacityTokens() {
		return Math.max(1, (long) (this.gpu.kvCacheTokens() * this.share.memoryShare() / this.model.kvFootprint()));
	}

	/**
	 * How full the slice's KV cache is.
	 * @param tokensResident the tokens (prompt and generated) of all sequences in flight,
	 * zero or more
	 * @return the used fraction of the KV cache, in [0, 1]
	 */
	public double kvCacheUsage(long tokensResident) {
		requireAtLeast("tokensResident", tokensResident, 0);
		return Math.min(1.0, (double) tokensResident / kvCacheCapacityTokens());
	}

	/**
	 * The time to process a prompt, unrounded, for simulations that add up many of them.
	 * @param promptTokens the prompt's length in tokens, zero or more
	 * @return the prefill time in nanoseconds
	 */
	public double prefillNanos(long promptTokens) {
		requireAtLeast("promptTokens", promptTokens, 0);
		return rawPrefillNanos(promptTokens);
	}

	/**
	 * The time of one decode step, unrounded, for simulations that add up many of them.
	 * @param sequencesInFlight the sequences decoded together, 1 or more
	 * @return the decode step time in nanoseconds
	 */
	public double stepNanos(int sequencesInFlight) {
		requireAtLeast("sequencesInFlight", sequencesInFlight, 1);
		return decodeStepNanos(sequencesInFlight);
	}

	private double rawPrefillNanos(long promptTokens) {
		double tokensPerSecond = this.gpu.prefillTokensPerSecond() * this.share.throughputShare()
				/ this.model.costFactor();
		return promptTokens * NANOS_PER_SECOND / tokensPerSecond * this.timeScale;
	}

	private double decodeStepNanos(int sequencesInFlight) {
		double batchFactor = 1.0 + this.gpu.decodeBatchGrowth() * (sequencesInFlight - 1);
		return this.gpu.decodeTimePerToken().toNanos() * this.model.costFactor() * batchFactor
				/ this.share.throughputShare() * this.timeScale;
	}

	private static void requireAtLeast(String name, long value, long minimum) {
		if (value < minimum) {
			throw new IllegalArgumentException(name + " must be at least " + minimum + ", was " + value);
		}
	}

}
