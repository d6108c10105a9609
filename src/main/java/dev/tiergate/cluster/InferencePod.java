package dev.tiergate.cluster;

/**
 * An inference pod, as far as routing needs to know it.
 *
 * @param namespace namespace
 * @param name pod name
 * @param uid pod UID, which changes when a pod of the same name is recreated
 * @param model the model it serves (value of the model label)
 * @param nodeName node it runs on, or {@code ""} if not yet scheduled
 * @param podIp pod IP, or {@code ""} if none yet
 * @param port the container port named {@code http}, or the configured default
 * @param maxConcurrency slots from annotation {@code tiergate.dev/max-concurrency}, or 0
 * when absent
 * @param slices {@code nvidia.com/gpu} (or {@code nvidia.com/gpu.shared}) requested by
 * the pod
 * @param priorityClass the pod's PriorityClass name, or {@code ""}
 * @param ready whether the pod's Ready condition is true
 * @param terminating whether the pod has a deletion timestamp
 * @param priorityScheduling whether a container starts vLLM with
 * {@code --scheduling-policy priority} (so its engine takes the {@code priority} field)
 */
public record InferencePod(String namespace, String name, String uid, String model, String nodeName, String podIp,
		int port, int maxConcurrency, int slices, String priorityClass, boolean ready, boolean terminating,
		boolean priorityScheduling) {

	/**
	 * A pod whose engine schedules first come, first served.
	 * @param namespace namespace
	 * @param name pod name
	 * @param uid pod UID
	 * @param model the model it serves
	 * @param nodeName node it runs on, or {@code ""}
	 * @param podIp pod IP, or {@code ""}
	 * @param port the container port named {@code http}
	 * @param maxConcurrency slots from the annotation, or 0
	 * @param slices GPU slices requested
	 * @param priorityClass the PriorityClass name, or {@code ""}
	 * @param ready whether the pod is Ready
	 * @param terminating whether the pod is being deleted
	 */
	public InferencePod(String namespace, String name, String uid, String model, String nodeName, String podIp,
			int port, int maxConcurrency, int slices, String priorityClass, boolean ready, boolean terminating) {
		this(namespace, name, uid, model, nodeName, podIp, port, maxConcurrency, slices, priorityClass, ready,
				terminating, false);
	}

	/**
	 * The pod's stable key.
	 * @return {@code namespace/name}
	 */
	public String key() {
		return this.namespace + "/" + this.name;
	}

	/**
	 * Whether new requests may be sent to this pod.
	 * @return {@code true} when it is ready, not being deleted and has an address
	 */
	public boolean routable() {
		return this.ready && !this.terminating && !this.podIp.isEmpty() && this.port > 0;
	}

}
