package dev.tiergate.cost;

/**
 * The part of one physical GPU that one slice (one {@code nvidia.com/gpu} unit) gets.
 * <p>
 * Under {@link SharingStrategy#MPS} a slice gets {@code 1 / replicas} of the GPU's
 * compute and memory, less a small {@linkplain #MPS_OVERHEAD MPS overhead}. Under
 * {@link SharingStrategy#TIME_SLICING} a slice may use the whole GPU but takes turns with
 * the other replicas; the model assumes the worst case, all replicas busy, so a slice
 * gets {@code 1 / replicas} of the throughput less a
 * {@linkplain #TIME_SLICING_SWITCH_PENALTY context-switch penalty} (none when there is
 * only one replica), and an equal part of the memory. Under {@link SharingStrategy#NONE}
 * the slice is the whole GPU.
 *
 * @param strategy how the GPU is shared
 * @param replicas how many slices the GPU is split into: 1 for {@code NONE}, 1 to
 * {@value #MAX_MPS_REPLICAS} for {@code MPS}, 1 or more for {@code TIME_SLICING}
 */
public record SliceShare(SharingStrategy strategy, int replicas) {

	/**
	 * The most MPS replicas the device plugin allows on one GPU (Volta and newer).
	 */
	public static final int MAX_MPS_REPLICAS = 48;

	/**
	 * The part of a slice's compute lost to the MPS server under MPS.
	 */
	public static final double MPS_OVERHEAD = 0.05;

	/**
	 * The part of a slice's throughput lost to context switches under time-slicing with
	 * more than one replica.
	 */
	public static final double TIME_SLICING_SWITCH_PENALTY = 0.10;

	/**
	 * Validates the share.
	 * @throws IllegalArgumentException naming the field that is missing or out of range
	 */
	public SliceShare {
		if (strategy == null) {
			throw new IllegalArgumentException("strategy must not be null");
		}
		if (replicas < 1) {
			throw new IllegalArgumentException("replicas must be at least 1, was " + replicas);
		}
		if (strategy == SharingStrategy.NONE && replicas != 1) {
			throw new IllegalArgumentException("replicas must be 1 when strategy is NONE, was " + replicas);
		}
		if (strategy == SharingStrategy.MPS && replicas > MAX_MPS_REPLICAS) {
			throw new IllegalArgumentException(
					"replicas must be at most " + MAX_MPS_REPLICAS + " when strategy is MPS, was " + replicas);
		}
	}

	/**
	 * The whole GPU, not shared.
	 * @return the share
	 */
	public static SliceShare none() {
		return new SliceShare(SharingStrategy.NONE, 1);
	}

	/**
	 * One of {@code replicas} MPS slices of a GPU.
	 * @param replicas how many slices the GPU is split into
	 * @return the share
	 */
	public static SliceShare mps(int replicas) {
		return new SliceShare(SharingStrategy.MPS, replicas);
	}

	/**
	 * One of {@code replicas} time-sliced slices of a GPU.
	 * @param replicas how many slices the GPU is split into
	 * @return the share
	 */
	public static SliceShare timeSlicing(int replicas) {
		return new SliceShare(SharingStrategy.TIME_SLICING, replicas);
	}

	/**
	 * The fraction of the whole GPU's throughput this slice delivers.
	 * @return a value in (0, 1]
	 */
	public double throughputShare() {
		return switch (this.strategy) {
			case NONE -> 1.0;
			case MPS -> (1.0 - MPS_OVERHEAD) / this.replicas;
			case TIME_SLICING -> (this.replicas == 1) ? 1.0 : (1.0 - TIME_SLICING_SWITCH_PENALTY) / this.replicas;
		};
	}

	/**
	 * The fraction of the whole GPU's memory, and so of its KV cache, this slice may use.
	 * @return a value in (0, 1]
	 */
	public double memoryShare() {
		return 1.0 / this.replicas;
	}

}
