package dev.tiergate.cluster;

import java.util.List;

/**
 * What Tiergate currently knows about the cluster, kept up to date by informers.
 */
public interface ClusterView {

	/**
	 * Nodes, sorted by name.
	 * @return a snapshot of the known nodes
	 */
	List<GpuNode> nodes();

	/**
	 * Inference pods in the watched namespaces, sorted by key.
	 * @return a snapshot of the known inference pods
	 */
	List<InferencePod> inferencePods();

	/**
	 * Whether every informer has completed its first list.
	 * @return {@code true} once the caches reflect the cluster
	 */
	boolean synced();

	/**
	 * Registers a listener for inference pod changes. It first receives every known pod
	 * as an upsert.
	 * @param listener the listener
	 */
	void addPodListener(PodListener listener);

	/**
	 * Receives inference pod changes. Calls come from informer threads, one at a time per
	 * informer.
	 */
	interface PodListener {

		/**
		 * A pod was added or changed.
		 * @param pod the pod as it is now
		 */
		void upserted(InferencePod pod);

		/**
		 * A pod was deleted, or stopped being an inference pod.
		 * @param pod the pod as it was last seen
		 */
		void removed(InferencePod pod);

	}

}
