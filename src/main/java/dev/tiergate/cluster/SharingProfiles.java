package dev.tiergate.cluster;

import java.util.List;

/**
 * GPU sharing profiles in the device plugin's ConfigMap, the node labels that select
 * them, and the device plugin restart that makes a change take effect. Every change is
 * validated first and recorded in the audit log.
 */
public interface SharingProfiles {

	/**
	 * Every key of the ConfigMap.
	 * @return profiles sorted by name; keys that are no single-resource sharing config
	 * carry an error
	 */
	List<Stored> list();

	/**
	 * One profile.
	 * @param name the ConfigMap key
	 * @return the profile
	 * @throws ClusterObjectNotFoundException if there is no such key
	 */
	Stored get(String name);

	/**
	 * Creates or replaces a profile's key in the ConfigMap (nodes and the device plugin
	 * are left alone: use {@link #apply} to roll it out).
	 * @param profile the profile
	 * @return the profile as stored, with its YAML, warnings and whether anything changed
	 * @throws InvalidClusterChangeException if it breaks a rule
	 */
	Saved put(SharingProfile profile);

	/**
	 * Removes a profile's key.
	 * @param name the key
	 * @throws ClusterConflictException if nodes are labelled with it
	 * @throws ClusterObjectNotFoundException if there is no such key
	 */
	void delete(String name);

	/**
	 * What {@link #apply} would do, changing nothing.
	 * @param profile the profile to roll out
	 * @param target the nodes to label with it
	 * @return the plan
	 */
	Preview preview(SharingProfile profile, Target target);

	/**
	 * Writes the ConfigMap key, labels the target nodes and restarts the device plugin,
	 * each only if it changes.
	 * @param profile the profile to roll out
	 * @param target the nodes to label with it
	 * @return the plan carried out and what was written
	 */
	Applied apply(SharingProfile profile, Target target);

	/**
	 * Per node, the profile it should run and what it reports live.
	 * @return nodes sorted by name
	 */
	List<NodeStatus> nodes();

	/**
	 * A stored profile.
	 *
	 * @param name the ConfigMap key
	 * @param profile the parsed profile, or {@code null} if the key holds something else
	 * @param yaml the key's text
	 * @param error why it could not be parsed, or {@code ""}
	 * @param nodes nodes labelled with it
	 * @param warnings warnings for it on those nodes
	 */
	record Stored(String name, SharingProfile profile, String yaml, String error, List<String> nodes,
			List<String> warnings) {
	}

	/**
	 * The result of {@link #put}.
	 *
	 * @param profile the profile as stored
	 * @param yaml the YAML written
	 * @param changed whether the ConfigMap changed
	 * @param warnings warnings, not blocking
	 */
	record Saved(SharingProfile profile, String yaml, boolean changed, List<String> warnings) {
	}

	/**
	 * Nodes to roll a profile out to: by name, by label selector, or both.
	 *
	 * @param nodes node names
	 * @param nodeSelector a label selector such as
	 * {@code nvidia.com/gpu.product=NVIDIA-A100-SXM4-80GB}, or empty
	 */
	record Target(List<String> nodes, String nodeSelector) {

		public Target {
			nodes = (nodes != null) ? List.copyOf(nodes) : List.of();
			nodeSelector = (nodeSelector != null) ? nodeSelector.strip() : "";
		}

	}

	/**
	 * What a roll-out changes.
	 *
	 * @param profile the profile
	 * @param configMap {@code namespace/name} of the ConfigMap
	 * @param before the key's YAML now ({@code ""} if absent)
	 * @param after the key's YAML after
	 * @param diff line diff of before and after, each line prefixed {@code " "},
	 * {@code "-"} or {@code "+"}
	 * @param configMapChanges whether the key changes
	 * @param nodes per target node, its label and slices before and after
	 * @param daemonSet {@code namespace/name} of the device plugin DaemonSet
	 * @param restart whether the device plugin will be restarted (only when something
	 * changes)
	 * @param restartAnnotation the pod template annotation the restart sets
	 * @param warnings warnings, not blocking
	 */
	record Preview(SharingProfile profile, String configMap, String before, String after, List<String> diff,
			boolean configMapChanges, List<NodePlan> nodes, String daemonSet, boolean restart, String restartAnnotation,
			List<String> warnings) {

		/**
		 * Whether applying changes anything.
		 * @return {@code true} if the ConfigMap or any node label changes
		 */
		public boolean changes() {
			return this.configMapChanges || this.nodes.stream().anyMatch(NodePlan::labelChanges);
		}

	}

	/**
	 * One node in a roll-out.
	 *
	 * @param node node name
	 * @param labelBefore its profile label now ({@code ""} if none)
	 * @param labelAfter its profile label after
	 * @param labelChanges whether the label changes
	 * @param gpus physical GPUs
	 * @param strategyBefore live sharing strategy
	 * @param replicasBefore live replicas per GPU
	 * @param slicesBefore live capacity of {@code nvidia.com/gpu}
	 * @param strategyAfter sharing strategy after
	 * @param replicasAfter replicas per GPU after
	 * @param slicesAfter slices after (GPUs x replicas), advertised as
	 * {@code resourceAfter}
	 * @param resourceAfter the resource pods request after
	 */
	record NodePlan(String node, String labelBefore, String labelAfter, boolean labelChanges, int gpus,
			String strategyBefore, int replicasBefore, int slicesBefore, String strategyAfter, int replicasAfter,
			int slicesAfter, String resourceAfter) {
	}

	/**
	 * The result of {@link #apply}.
	 *
	 * @param preview the plan that was carried out
	 * @param configMapWritten whether the ConfigMap was written
	 * @param labelledNodes nodes whose label was written
	 * @param restartedAt the restart annotation's value, or {@code ""} if the device
	 * plugin was not restarted
	 */
	record Applied(Preview preview, boolean configMapWritten, List<String> labelledNodes, String restartedAt) {
	}

	/**
	 * A node's desired profile against what it reports live.
	 *
	 * @param node node name
	 * @param profile the profile its label selects ({@code ""} if none: the device
	 * plugin's default config)
	 * @param desiredStrategy strategy of that profile ({@code ""} if unknown)
	 * @param desiredReplicas replicas of that profile (0 if unknown)
	 * @param liveStrategy {@code nvidia.com/gpu.sharing-strategy}
	 * @param liveReplicas {@code nvidia.com/gpu.replicas}
	 * @param gpus {@code nvidia.com/gpu.count}
	 * @param capacity capacity of {@code nvidia.com/gpu}
	 * @param mig whether the node runs MIG
	 * @param drift whether live differs from desired
	 * @param reasons how it differs
	 */
	record NodeStatus(String node, String profile, String desiredStrategy, int desiredReplicas, String liveStrategy,
			int liveReplicas, int gpus, int capacity, boolean mig, boolean drift, List<String> reasons) {
	}

}
