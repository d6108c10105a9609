package dev.tiergate.cluster.internal;

import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

import org.springframework.util.unit.DataSize;

import dev.tiergate.audit.AuditLog;
import dev.tiergate.cluster.ClusterConflictException;
import dev.tiergate.cluster.ClusterObjectNotFoundException;
import dev.tiergate.cluster.ClusterView;
import dev.tiergate.cluster.GpuNode;
import dev.tiergate.cluster.InferencePod;
import dev.tiergate.cluster.InvalidClusterChangeException;
import dev.tiergate.cluster.Leadership;
import dev.tiergate.cluster.SharingProfile;
import dev.tiergate.cluster.SharingProfiles;
import dev.tiergate.cluster.SharingProperties;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.apis.AppsV1Api;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1ConfigMap;
import io.kubernetes.client.openapi.models.V1DaemonSet;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1ObjectMeta;

/**
 * {@link SharingProfiles} in the device plugin's ConfigMap, written with the official
 * client. Every read before a write goes to the API server (not the informer cache), so a
 * plan is made from what the cluster holds now.
 */
class KubernetesSharingProfiles implements SharingProfiles {

	static final String KIND_PROFILE = "sharing-profile";

	static final String KIND_NODE_LABEL = "node-label";

	static final String KIND_RESTART = "device-plugin-restart";

	private final ApiClient client;

	private final CoreV1Api core;

	private final AppsV1Api apps;

	private final SharingProperties properties;

	private final ClusterView clusterView;

	private final AuditLog audit;

	private final WriterLock writes;

	private final Clock clock;

	KubernetesSharingProfiles(ApiClient client, SharingProperties properties, ClusterView clusterView, AuditLog audit,
			Clock clock) {
		this(client, properties, clusterView, audit, clock, Leadership.SOLE);
	}

	KubernetesSharingProfiles(ApiClient client, SharingProperties properties, ClusterView clusterView, AuditLog audit,
			Clock clock, Leadership leadership) {
		this.client = client;
		this.writes = new WriterLock("sharing profiles", client, leadership);
		this.core = new CoreV1Api(client);
		this.apps = new AppsV1Api(client);
		this.properties = properties;
		this.clusterView = clusterView;
		this.audit = audit;
		this.clock = clock;
	}

	@Override
	public List<Stored> list() {
		Map<String, String> data = configData(readConfigMap());
		List<V1Node> nodes = listNodes();
		List<Stored> result = new ArrayList<>();
		new TreeMap<>(data).forEach((name, yaml) -> result.add(stored(name, yaml, nodes)));
		return result;
	}

	@Override
	public Stored get(String name) {
		String yaml = configData(readConfigMap()).get(name);
		if (yaml == null) {
			throw new ClusterObjectNotFoundException("No sharing profile '" + name + "' in " + configMapName());
		}
		return stored(name, yaml, listNodes());
	}

	private Stored stored(String name, String yaml, List<V1Node> nodes) {
		List<V1Node> labelled = nodes.stream().filter((n) -> name.equals(label(n))).toList();
		List<String> names = labelled.stream().map(KubernetesSharingProfiles::name).toList();
		try {
			SharingProfile profile = SharingProfile.fromYaml(name, yaml);
			return new Stored(name, profile, yaml, "", names, warnings(profile, labelled));
		}
		catch (InvalidClusterChangeException ex) {
			return new Stored(name, null, yaml, ex.field() + ": " + ex.getMessage(), names, List.of());
		}
	}

	@Override
	public Saved put(SharingProfile requested) {
		return this.writes.run(() -> putExclusively(requested));
	}

	private Saved putExclusively(SharingProfile requested) {
		SharingProfile profile = requested.withDefaults();
		profile.validate();
		List<V1Node> nodes = listNodes();
		List<V1Node> labelled = nodes.stream().filter((n) -> profile.name().equals(label(n))).toList();
		requireNoMig(profile, labelled);
		String yaml = profile.toYaml();
		boolean changed = writeConfigKey(profile.name(), yaml);
		return new Saved(profile, yaml, changed, warnings(profile, labelled));
	}

	@Override
	public void delete(String name) {
		this.writes.run(() -> deleteExclusively(name));
	}

	private void deleteExclusively(String name) {
		V1ConfigMap configMap = readConfigMap();
		Map<String, String> data = configData(configMap);
		if (!data.containsKey(name)) {
			throw new ClusterObjectNotFoundException("No sharing profile '" + name + "' in " + configMapName());
		}
		List<String> users = listNodes().stream()
			.filter((n) -> name.equals(label(n)))
			.map(KubernetesSharingProfiles::name)
			.toList();
		if (!users.isEmpty()) {
			throw new ClusterConflictException("Sharing profile '" + name + "' is selected by nodes " + users
					+ "; label them with another profile first", users);
		}
		Map<String, String> next = new LinkedHashMap<>(data);
		String before = next.remove(name);
		configMap.setData(next);
		Kube.call("replace ConfigMap " + configMapName(),
				() -> this.core
					.replaceNamespacedConfigMap(this.properties.configMap(), this.properties.namespace(), configMap)
					.execute());
		this.audit.record(KIND_PROFILE, "delete", name, before, "");
	}

	@Override
	public Preview preview(SharingProfile requested, Target target) {
		return plan(requested, target).preview();
	}

	@Override
	public Applied apply(SharingProfile requested, Target target) {
		return this.writes.run(() -> applyExclusively(requested, target));
	}

	private Applied applyExclusively(SharingProfile requested, Target target) {
		Plan plan = plan(requested, target);
		Preview preview = plan.preview();
		boolean written = false;
		if (preview.configMapChanges()) {
			written = writeConfigKey(preview.profile().name(), preview.after());
		}
		List<String> labelled = new ArrayList<>();
		for (NodePlan node : preview.nodes()) {
			if (node.labelChanges()) {
				Map<String, Object> patch = Map.of("metadata",
						Map.of("labels", Map.of(this.properties.nodeLabel(), node.labelAfter())));
				Kube.mergePatch("label node " + node.node(), V1Node.class, this.client, patch,
						() -> this.core.patchNode(node.node(), Kube.json(patch)).buildCall(null));
				this.audit.record(KIND_NODE_LABEL, "update", node.node(), labelText(node.labelBefore()),
						labelText(node.labelAfter()));
				labelled.add(node.node());
			}
		}
		String restartedAt = "";
		if (preview.restart()) {
			restartedAt = this.clock.instant().toString();
			String before = plan.restartedAtBefore();
			Map<String, Object> patch = Map.of("spec", Map.of("template", Map.of("metadata",
					Map.of("annotations", Map.of(this.properties.restartAnnotation(), restartedAt)))));
			Kube.mergePatch("restart DaemonSet " + daemonSetName(), V1DaemonSet.class, this.client, patch,
					() -> this.apps
						.patchNamespacedDaemonSet(this.properties.daemonSet(), this.properties.namespace(),
								Kube.json(patch))
						.buildCall(null));
			this.audit.record(KIND_RESTART, "restart", daemonSetName(),
					before.isEmpty() ? "" : this.properties.restartAnnotation() + "=" + before,
					this.properties.restartAnnotation() + "=" + restartedAt);
		}
		return new Applied(preview, written, labelled, restartedAt);
	}

	private String labelText(String value) {
		return value.isEmpty() ? "" : this.properties.nodeLabel() + "=" + value;
	}

	private record Plan(Preview preview, String restartedAtBefore) {
	}

	private Plan plan(SharingProfile requested, Target target) {
		SharingProfile profile = requested.withDefaults();
		profile.validate();
		List<V1Node> all = listNodes();
		List<V1Node> targets = targets(all, target);
		Set<String> targetNames = new LinkedHashSet<>(targets.stream().map(KubernetesSharingProfiles::name).toList());
		List<V1Node> affected = new ArrayList<>(targets);
		all.stream()
			.filter((n) -> profile.name().equals(label(n)) && !targetNames.contains(name(n)))
			.forEach(affected::add);
		requireNoMig(profile, affected);
		String before = Objects.requireNonNullElse(configData(readConfigMap()).get(profile.name()), "");
		String after = profile.toYaml();
		boolean configChanges = !before.equals(after);
		List<NodePlan> nodePlans = new ArrayList<>();
		for (V1Node node : targets) {
			GpuNode live = KubernetesObjects.node(node);
			String labelBefore = Objects.requireNonNullElse(label(node), "");
			nodePlans.add(new NodePlan(live.name(), labelBefore, profile.name(), !labelBefore.equals(profile.name()),
					live.gpus(), live.sharingStrategy(), live.replicas(), live.sliceCapacity(), profile.strategy(),
					profile.replicas(), live.gpus() * profile.replicas(), profile.advertisedResource()));
		}
		V1DaemonSet daemonSet = Kube.orNull("read DaemonSet " + daemonSetName(),
				() -> this.apps.readNamespacedDaemonSet(this.properties.daemonSet(), this.properties.namespace())
					.execute());
		List<String> warnings = new ArrayList<>(warnings(profile, affected));
		if (!target.nodeSelector().isEmpty() && targets.isEmpty()) {
			warnings.add("the node selector matches no node");
		}
		boolean labelChanges = nodePlans.stream().anyMatch(NodePlan::labelChanges);
		boolean inUse = !affected.isEmpty();
		boolean restart = daemonSet != null && (labelChanges || (configChanges && inUse));
		if (daemonSet == null && (labelChanges || (configChanges && inUse))) {
			warnings.add("the device plugin DaemonSet " + daemonSetName()
					+ " was not found: restart the device plugin yourself, or the change will not take effect");
		}
		String restartedBefore = "";
		if (daemonSet != null && daemonSet.getSpec() != null && daemonSet.getSpec().getTemplate() != null
				&& daemonSet.getSpec().getTemplate().getMetadata() != null
				&& daemonSet.getSpec().getTemplate().getMetadata().getAnnotations() != null) {
			restartedBefore = daemonSet.getSpec()
				.getTemplate()
				.getMetadata()
				.getAnnotations()
				.getOrDefault(this.properties.restartAnnotation(), "");
		}
		Preview preview = new Preview(profile, configMapName(), before, after, LineDiff.diff(before, after),
				configChanges, List.copyOf(nodePlans), daemonSetName(), restart, this.properties.restartAnnotation(),
				List.copyOf(warnings));
		return new Plan(preview, restartedBefore);
	}

	private List<V1Node> targets(List<V1Node> all, Target target) {
		Map<String, V1Node> byName = new LinkedHashMap<>();
		all.forEach((n) -> byName.put(name(n), n));
		Map<String, V1Node> chosen = new TreeMap<>();
		for (String name : target.nodes()) {
			V1Node node = byName.get(name);
			if (node == null) {
				throw new InvalidClusterChangeException("nodes", "no node named '" + name + "'");
			}
			chosen.put(name, node);
		}
		if (!target.nodeSelector().isEmpty()) {
			LabelSelector selector = LabelSelector.parse(target.nodeSelector(), "nodeSelector");
			// Ask the API server with the selector, then evaluate it here too: not every
			// server honours set-based
			// requirements, and a selector that is ignored must not label every node.
			List<V1Node> listed = Kube
				.call("list nodes", () -> this.core.listNode().labelSelector(target.nodeSelector()).execute())
				.getItems();
			listed.stream()
				.filter((n) -> selector.test(n.getMetadata() != null ? n.getMetadata().getLabels() : null))
				.forEach((n) -> chosen.put(name(n), n));
		}
		return List.copyOf(chosen.values());
	}

	private void requireNoMig(SharingProfile profile, List<V1Node> nodes) {
		if (!SharingProfile.MPS.equals(profile.strategy())) {
			return;
		}
		List<String> mig = nodes.stream()
			.filter(KubernetesSharingProfiles::mig)
			.map(KubernetesSharingProfiles::name)
			.toList();
		if (!mig.isEmpty()) {
			throw new InvalidClusterChangeException("strategy",
					"MPS cannot share MIG devices; these nodes run MIG: " + String.join(", ", mig));
		}
	}

	/**
	 * Whether a node runs MIG: GPU Feature Discovery labels its MIG strategy
	 * {@code single} or {@code mixed}, or labels it MIG-capable without saying its
	 * strategy is {@code none}.
	 */
	static boolean mig(V1Node node) {
		Map<String, String> labels = labels(node);
		String strategy = labels.getOrDefault("nvidia.com/mig.strategy", "");
		if (strategy.equals("single") || strategy.equals("mixed")) {
			return true;
		}
		return "true".equals(labels.get("nvidia.com/mig.capable")) && !strategy.equals("none");
	}

	private List<String> warnings(SharingProfile profile, List<V1Node> nodes) {
		List<String> warnings = new ArrayList<>(profile.warnings());
		Map<String, DataSize> footprints = this.properties.modelMemory();
		if (footprints.isEmpty() || nodes.isEmpty()) {
			return warnings;
		}
		Map<String, List<InferencePod>> podsByNode = new TreeMap<>();
		for (InferencePod pod : this.clusterView.inferencePods()) {
			podsByNode.computeIfAbsent(pod.nodeName(), (k) -> new ArrayList<>()).add(pod);
		}
		for (V1Node node : nodes) {
			GpuNode gpu = KubernetesObjects.node(node);
			if (gpu.gpuMemoryMiB() <= 0) {
				continue;
			}
			long perReplica = gpu.gpuMemoryMiB() / profile.replicas();
			Set<String> models = new java.util.TreeSet<>();
			podsByNode.getOrDefault(gpu.name(), List.of()).forEach((p) -> models.add(p.model()));
			for (String model : models) {
				DataSize footprint = footprints.get(model);
				if (footprint != null && perReplica < footprint.toMegabytes()) {
					warnings.add("node " + gpu.name() + ": " + perReplica + " MiB per replica (" + gpu.gpuMemoryMiB()
							+ " MiB / " + profile.replicas() + ") is below the footprint of " + model + " ("
							+ footprint.toMegabytes() + " MiB)");
				}
			}
		}
		return warnings;
	}

	@Override
	public List<NodeStatus> nodes() {
		Map<String, String> data = configData(readConfigMap());
		List<NodeStatus> result = new ArrayList<>();
		for (V1Node node : listNodes()) {
			GpuNode live = KubernetesObjects.node(node);
			String profileName = Objects.requireNonNullElse(label(node), "");
			String desiredStrategy = "";
			int desiredReplicas = 0;
			List<String> reasons = new ArrayList<>();
			if (!profileName.isEmpty()) {
				String yaml = data.get(profileName);
				if (yaml == null) {
					reasons.add("profile '" + profileName + "' is not in " + configMapName());
				}
				else {
					try {
						SharingProfile profile = SharingProfile.fromYaml(profileName, yaml);
						desiredStrategy = profile.strategy();
						desiredReplicas = profile.replicas();
						if (!desiredStrategy.equals(live.sharingStrategy())) {
							reasons.add("strategy is " + live.sharingStrategy() + ", profile says " + desiredStrategy);
						}
						if (desiredReplicas != live.replicas()) {
							reasons.add("replicas are " + live.replicas() + ", profile says " + desiredReplicas);
						}
						if (!profile.renameByDefault() && SharingProfile.GPU.equals(profile.withDefaults().resource())
								&& live.sliceCapacity() != live.gpus() * desiredReplicas) {
							reasons.add("capacity is " + live.sliceCapacity() + ", expected " + live.gpus() + " x "
									+ desiredReplicas + " = " + (live.gpus() * desiredReplicas));
						}
					}
					catch (InvalidClusterChangeException ex) {
						reasons.add("profile '" + profileName + "' is not a sharing config: " + ex.getMessage());
					}
				}
			}
			result.add(new NodeStatus(live.name(), profileName, desiredStrategy, desiredReplicas,
					live.sharingStrategy(), live.replicas(), live.gpus(), live.sliceCapacity(), mig(node),
					!reasons.isEmpty(), List.copyOf(reasons)));
		}
		return result;
	}

	private boolean writeConfigKey(String key, String yaml) {
		V1ConfigMap configMap = readConfigMap();
		if (configMap == null) {
			V1ConfigMap created = new V1ConfigMap().apiVersion("v1")
				.kind("ConfigMap")
				.metadata(new V1ObjectMeta().name(this.properties.configMap())
					.namespace(this.properties.namespace())
					.labels(Map.of("app.kubernetes.io/managed-by", "tiergate")))
				.data(new LinkedHashMap<>(Map.of(key, yaml)));
			Kube.call("create ConfigMap " + configMapName(),
					() -> this.core.createNamespacedConfigMap(this.properties.namespace(), created).execute());
			this.audit.record(KIND_PROFILE, "create", key, "", yaml);
			return true;
		}
		Map<String, String> data = new LinkedHashMap<>(configData(configMap));
		String before = data.get(key);
		if (yaml.equals(before)) {
			return false;
		}
		data.put(key, yaml);
		configMap.setData(data);
		if (configMap.getApiVersion() == null) {
			configMap.apiVersion("v1").kind("ConfigMap");
		}
		Kube.call("replace ConfigMap " + configMapName(),
				() -> this.core
					.replaceNamespacedConfigMap(this.properties.configMap(), this.properties.namespace(), configMap)
					.execute());
		this.audit.record(KIND_PROFILE, (before == null) ? "create" : "update", key,
				Objects.requireNonNullElse(before, ""), yaml);
		return true;
	}

	private V1ConfigMap readConfigMap() {
		return Kube.orNull("read ConfigMap " + configMapName(),
				() -> this.core.readNamespacedConfigMap(this.properties.configMap(), this.properties.namespace())
					.execute());
	}

	private static Map<String, String> configData(V1ConfigMap configMap) {
		return (configMap != null && configMap.getData() != null) ? configMap.getData() : Map.of();
	}

	private List<V1Node> listNodes() {
		return Kube.call("list nodes", () -> this.core.listNode().execute())
			.getItems()
			.stream()
			.sorted(Comparator.comparing(KubernetesSharingProfiles::name))
			.toList();
	}

	private String label(V1Node node) {
		return labels(node).get(this.properties.nodeLabel());
	}

	private static Map<String, String> labels(V1Node node) {
		return (node.getMetadata() != null && node.getMetadata().getLabels() != null) ? node.getMetadata().getLabels()
				: Map.of();
	}

	private static String name(V1Node node) {
		return (node.getMetadata() != null) ? Objects.requireNonNullElse(node.getMetadata().getName(), "") : "";
	}

	private String configMapName() {
		return this.properties.namespace() + "/" + this.properties.configMap();
	}

	private String daemonSetName() {
		return this.properties.namespace() + "/" + this.properties.daemonSet();
	}

}
