package dev.tiergate.cluster.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import dev.tiergate.audit.AuditLog;
import dev.tiergate.cluster.ClusterConflictException;
import dev.tiergate.cluster.ClusterObjectNotFoundException;
import dev.tiergate.cluster.ClusterProperties;
import dev.tiergate.cluster.InvalidClusterChangeException;
import dev.tiergate.cluster.Leadership;
import dev.tiergate.cluster.PriorityClasses;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.apis.SchedulingV1Api;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1Pod;
import io.kubernetes.client.openapi.models.V1PriorityClass;

/**
 * {@link PriorityClasses} with the official client. Pods are counted from a fresh list of
 * the watched namespaces (all when none are configured), because the informers see only
 * inference pods.
 */
class KubernetesPriorityClasses implements PriorityClasses {

	static final String KIND = "priority-class";

	private static final Pattern DNS_SUBDOMAIN = Pattern
		.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

	private static final Set<String> POLICIES = Set.of("PreemptLowerPriority", "Never");

	private final SchedulingV1Api scheduling;

	private final CoreV1Api core;

	private final ClusterProperties clusterProperties;

	private final AuditLog audit;

	private final WriterLock writes;

	KubernetesPriorityClasses(ApiClient client, ClusterProperties clusterProperties, AuditLog audit) {
		this(client, clusterProperties, audit, Leadership.SOLE);
	}

	KubernetesPriorityClasses(ApiClient client, ClusterProperties clusterProperties, AuditLog audit,
			Leadership leadership) {
		this.writes = new WriterLock("PriorityClasses", client, leadership);
		this.scheduling = new SchedulingV1Api(client);
		this.core = new CoreV1Api(client);
		this.clusterProperties = clusterProperties;
		this.audit = audit;
	}

	@Override
	public List<Info> list() {
		Map<String, Integer> counts = new HashMap<>();
		for (V1Pod pod : activePods()) {
			String name = pod.getSpec() != null ? pod.getSpec().getPriorityClassName() : null;
			if (name != null && !name.isEmpty()) {
				counts.merge(name, 1, Integer::sum);
			}
		}
		return listClasses().stream()
			.map((pc) -> info(pc, counts.getOrDefault(name(pc), 0)))
			.sorted(Comparator.comparingLong(Info::value).reversed().thenComparing(Info::name))
			.toList();
	}

	@Override
	public Info put(Spec spec) {
		return this.writes.run(() -> putExclusively(spec));
	}

	private Info putExclusively(Spec spec) {
		validate(spec);
		List<V1PriorityClass> all = listClasses();
		V1PriorityClass existing = all.stream().filter((pc) -> spec.name().equals(name(pc))).findFirst().orElse(null);
		requireWritable(spec.name(), existing);
		if (Boolean.TRUE.equals(spec.globalDefault())) {
			List<String> others = all.stream()
				.filter((pc) -> Boolean.TRUE.equals(pc.getGlobalDefault()) && !spec.name().equals(name(pc)))
				.map(KubernetesPriorityClasses::name)
				.toList();
			if (!others.isEmpty()) {
				throw new ClusterConflictException(
						"Only one PriorityClass may be the global default; " + others + " already is", others);
			}
		}
		V1PriorityClass result = write(spec, existing).result();
		return info(result, podsUsing(spec.name()).size());
	}

	private record Written(String action, V1PriorityClass result) {
	}

	private Written write(Spec spec, V1PriorityClass existing) {
		V1PriorityClass desired = desired(spec, existing);
		if (existing == null) {
			V1PriorityClass created = Kube.call("create PriorityClass " + spec.name(),
					() -> this.scheduling.createPriorityClass(desired).execute());
			this.audit.record(KIND, "create", spec.name(), "", describe(desired));
			return new Written("created", created);
		}
		if (same(existing, desired)) {
			return new Written("unchanged", existing);
		}
		boolean immutableChange = !Objects.equals(existing.getValue(), desired.getValue())
				|| !Objects.equals(policy(existing), policy(desired));
		V1PriorityClass result;
		String action;
		if (immutableChange) {
			// value and preemptionPolicy cannot change in place: replace the class. Pods
			// already admitted keep
			// the priority they were given.
			Kube.call("delete PriorityClass " + spec.name(),
					() -> this.scheduling.deletePriorityClass(spec.name()).execute());
			result = Kube.call("create PriorityClass " + spec.name(),
					() -> this.scheduling.createPriorityClass(desired).execute());
			action = "replaced";
		}
		else {
			desired.getMetadata().resourceVersion(existing.getMetadata().getResourceVersion());
			result = Kube.call("replace PriorityClass " + spec.name(),
					() -> this.scheduling.replacePriorityClass(spec.name(), desired).execute());
			action = "updated";
		}
		this.audit.record(KIND, "update", spec.name(), describe(existing), describe(desired));
		return new Written(action, result);
	}

	@Override
	public void delete(String name) {
		this.writes.run(() -> deleteExclusively(name));
	}

	private void deleteExclusively(String name) {
		V1PriorityClass existing = Kube.orNull("read PriorityClass " + name,
				() -> this.scheduling.readPriorityClass(name).execute());
		if (existing == null) {
			throw new ClusterObjectNotFoundException("No PriorityClass '" + name + "'");
		}
		requireWritable(name, existing);
		List<String> pods = podsUsing(name);
		if (!pods.isEmpty()) {
			throw new ClusterConflictException(
					"PriorityClass '" + name + "' is used by " + pods.size() + " running pod(s)", pods);
		}
		Kube.call("delete PriorityClass " + name, () -> this.scheduling.deletePriorityClass(name).execute());
		this.audit.record(KIND, "delete", name, describe(existing), "");
	}

	@Override
	public List<SyncChange> sync(List<Spec> desired) {
		return this.writes.run(() -> syncExclusively(desired));
	}

	private List<SyncChange> syncExclusively(List<Spec> desired) {
		desired.forEach(this::validate);
		Map<String, V1PriorityClass> byName = new LinkedHashMap<>();
		listClasses().forEach((pc) -> byName.put(name(pc), pc));
		List<String> conflicts = new ArrayList<>();
		for (Spec spec : desired) {
			V1PriorityClass existing = byName.get(spec.name());
			if (spec.name().startsWith("system-") || (existing != null && !managed(existing))) {
				conflicts.add(spec.name());
			}
		}
		if (!conflicts.isEmpty()) {
			throw new ClusterConflictException("These PriorityClasses exist and are not managed by Tiergate (or are "
					+ "system classes), so the tiers cannot be synced: " + conflicts, conflicts);
		}
		List<SyncChange> changes = new ArrayList<>();
		for (Spec spec : desired) {
			changes.add(new SyncChange(spec.name(), write(spec, byName.get(spec.name())).action()));
		}
		return changes;
	}

	@Override
	public List<String> podsUsing(String name) {
		return activePods().stream()
			.filter((pod) -> pod.getSpec() != null && name.equals(pod.getSpec().getPriorityClassName()))
			.map((pod) -> pod.getMetadata().getNamespace() + "/" + pod.getMetadata().getName())
			.sorted()
			.toList();
	}

	private List<V1Pod> activePods() {
		Stream<V1Pod> pods;
		if (this.clusterProperties.allNamespaces()) {
			pods = Kube.call("list pods", () -> this.core.listPodForAllNamespaces().execute()).getItems().stream();
		}
		else {
			pods = this.clusterProperties.namespaces()
				.stream()
				.filter((n) -> !n.isBlank())
				.distinct()
				.flatMap((n) -> Kube.call("list pods in " + n, () -> this.core.listNamespacedPod(n).execute())
					.getItems()
					.stream());
		}
		return pods
			.filter((pod) -> pod.getMetadata() != null
					&& (pod.getStatus() == null || !Set.of("Succeeded", "Failed").contains(pod.getStatus().getPhase())))
			.toList();
	}

	private void validate(Spec spec) {
		if (spec.name() == null || spec.name().length() > 253 || !DNS_SUBDOMAIN.matcher(spec.name()).matches()) {
			throw new InvalidClusterChangeException("name", "must be a DNS subdomain name");
		}
		if (spec.value() > MAX_VALUE || spec.value() < Integer.MIN_VALUE) {
			throw new InvalidClusterChangeException("value",
					"must be at most " + MAX_VALUE + " (larger values are reserved for system classes)");
		}
		if (!POLICIES.contains(spec.preemptionPolicy())) {
			throw new InvalidClusterChangeException("preemptionPolicy", "must be PreemptLowerPriority or Never");
		}
	}

	private void requireWritable(String name, V1PriorityClass existing) {
		if (name.startsWith("system-")) {
			throw new ClusterConflictException("PriorityClass '" + name + "' is a system class and read-only",
					List.of(name));
		}
		if (existing != null && !managed(existing)) {
			throw new ClusterConflictException("PriorityClass '" + name + "' is not managed by Tiergate (label "
					+ MANAGED_BY + "=" + TIERGATE + ") and is read-only to it", List.of(name));
		}
	}

	private static V1PriorityClass desired(Spec spec, V1PriorityClass existing) {
		Map<String, String> labels = new LinkedHashMap<>();
		if (existing != null && existing.getMetadata() != null && existing.getMetadata().getLabels() != null) {
			labels.putAll(existing.getMetadata().getLabels());
		}
		labels.put(MANAGED_BY, TIERGATE);
		if (spec.tier() != null && !spec.tier().isBlank()) {
			labels.put(TIER_LABEL, spec.tier());
		}
		boolean globalDefault = (spec.globalDefault() != null) ? spec.globalDefault()
				: existing != null && Boolean.TRUE.equals(existing.getGlobalDefault());
		String description = (spec.description() != null) ? spec.description()
				: (existing != null && existing.getDescription() != null) ? existing.getDescription()
						: (spec.tier() != null) ? "Tiergate tier " + spec.tier() : "Managed by Tiergate";
		return new V1PriorityClass().apiVersion("scheduling.k8s.io/v1")
			.kind("PriorityClass")
			.metadata(new V1ObjectMeta().name(spec.name()).labels(labels))
			.value((int) spec.value())
			.preemptionPolicy(spec.preemptionPolicy())
			.globalDefault(globalDefault)
			.description(description);
	}

	private static boolean same(V1PriorityClass a, V1PriorityClass b) {
		return Objects.equals(a.getValue(), b.getValue()) && Objects.equals(policy(a), policy(b))
				&& Boolean.TRUE.equals(a.getGlobalDefault()) == Boolean.TRUE.equals(b.getGlobalDefault())
				&& Objects.equals(a.getDescription(), b.getDescription()) && Objects.equals(labelsOf(a), labelsOf(b));
	}

	private static Map<String, String> labelsOf(V1PriorityClass pc) {
		return (pc.getMetadata() != null && pc.getMetadata().getLabels() != null) ? pc.getMetadata().getLabels()
				: Map.of();
	}

	private static String policy(V1PriorityClass pc) {
		return Objects.requireNonNullElse(pc.getPreemptionPolicy(), "PreemptLowerPriority");
	}

	private static boolean managed(V1PriorityClass pc) {
		return TIERGATE.equals(labelsOf(pc).get(MANAGED_BY));
	}

	private static String name(V1PriorityClass pc) {
		return (pc.getMetadata() != null) ? Objects.requireNonNullElse(pc.getMetadata().getName(), "") : "";
	}

	private static String describe(V1PriorityClass pc) {
		return "value=" + pc.getValue() + " preemptionPolicy=" + policy(pc) + " globalDefault="
				+ Boolean.TRUE.equals(pc.getGlobalDefault()) + " description=" + pc.getDescription() + " labels="
				+ labelsOf(pc);
	}

	private Info info(V1PriorityClass pc, int pods) {
		String name = name(pc);
		boolean managed = managed(pc);
		return new Info(name, (pc.getValue() != null) ? pc.getValue() : 0, policy(pc),
				Boolean.TRUE.equals(pc.getGlobalDefault()), Objects.requireNonNullElse(pc.getDescription(), ""),
				managed, name.startsWith("system-") || !managed, labelsOf(pc).getOrDefault(TIER_LABEL, ""), pods);
	}

	private List<V1PriorityClass> listClasses() {
		return Kube.call("list PriorityClasses", () -> this.scheduling.listPriorityClass().execute()).getItems();
	}

}
