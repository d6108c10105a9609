package dev.tiergate.cost;

/**
 * How the NVIDIA device plugin shares one physical GPU between pods, as nodes publish it
 * in {@code nvidia.com/gpu.sharing-strategy}.
 */
public enum SharingStrategy {

	/**
	 * The GPU is not shared: one pod has all of it.
	 */
	NONE,

	/**
	 * The GPU is shared in time: each replica may use all of it, but takes turns with the
	 * others.
	 */
	TIME_SLICING,

	/**
	 * The GPU is shared in space by the Multi-Process Service: each replica gets a fixed
	 * share of its compute and memory.
	 */
	MPS

}
