package dev.tiergate.deploy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Predicate;
import java.util.regex.Pattern;

import com.marcnuri.helm.DryRun;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.assertThatException;

/**
 * Tests for the Helm chart in {@code charts/tiergate}.
 */
class HelmChartTests {

	private static final Path CHART = Paths.get("charts/tiergate");

	private static final String RELEASE = "tg";

	private static final String NAMESPACE = "tiergate-system";

	private static final String FULLNAME = "tg-tiergate";

	/**
	 * The Kubernetes version to render for; helm-java's default (1.20) is older than the
	 * chart supports.
	 */
	private static final String KUBE_VERSION = "1.33.0";

	private static final List<String> READ_ONLY = List.of("get", "list", "watch");

	@Test
	void lintPassesStrictly() {
		LintResult result = new Helm(CHART).lint().strict().call();
		assertThat(result.isFailed()).as("lint messages: %s", result.getMessages()).isFalse();
		assertThat(result.getMessages())
			.noneMatch((message) -> message.contains("[ERROR]") || message.contains("[WARNING]"));
	}

	@Test
	void documentsEveryValue() throws IOException {
		List<String> lines = Files.readAllLines(CHART.resolve("values.yaml"));
		Pattern key = Pattern.compile("^\\s*[A-Za-z][A-Za-z0-9]*:.*");
		List<String> undocumented = new ArrayList<>();
		for (int i = 0; i < lines.size(); i++) {
			if (key.matcher(lines.get(i)).matches() && (i == 0 || !lines.get(i - 1).trim().startsWith("#"))) {
				undocumented.add((i + 1) + ": " + lines.get(i).trim());
			}
		}
		assertThat(undocumented).as("values.yaml keys without a comment above them").isEmpty();
	}

	@Test
	void rendersRestrictedSecurityContextByDefault() {
		Map<String, Object> podSpec = podSpec(render());
		assertThat(map(podSpec, "securityContext")).containsEntry("runAsNonRoot", true)
			.containsEntry("runAsUser", 10001)
			.containsEntry("runAsGroup", 10001)
			.containsEntry("fsGroup", 10001)
			.containsEntry("seccompProfile", Map.of("type", "RuntimeDefault"));
		Map<String, Object> container = container(podSpec);
		Map<String, Object> securityContext = map(container, "securityContext");
		assertThat(securityContext).containsEntry("allowPrivilegeEscalation", false)
			.containsEntry("readOnlyRootFilesystem", true)
			.containsEntry("runAsNonRoot", true)
			.containsEntry("capabilities", Map.of("drop", List.of("ALL")));
		assertThat(securityContext).doesNotContainKey("privileged");
		assertThat(list(container, "volumeMounts")).containsExactly(Map.of("name", "tmp", "mountPath", "/tmp"));
		assertThat(list(podSpec, "volumes")).singleElement()
			.satisfies((volume) -> assertThat(map(volume, "emptyDir")).isNotNull());
	}

	@Test
	void probesLivezAndReadyzOnHttpPort() {
		Map<String, Object> container = container(podSpec(render()));
		assertThat(map(container, "livenessProbe", "httpGet")).containsEntry("path", "/livez")
			.containsEntry("port", "http");
		assertThat(map(container, "readinessProbe", "httpGet")).containsEntry("path", "/readyz")
			.containsEntry("port", "http");
		assertThat(map(container, "startupProbe", "httpGet")).containsEntry("path", "/livez")
			.containsEntry("port", "http");
		assertThat(map(container, "startupProbe")).containsKey("failureThreshold");
	}

	@Test
	void exposesHttpAndManagementPortsOnContainerAndService() {
		Manifests manifests = render();
		assertThat(list(container(podSpec(manifests)), "ports")).containsExactly(
				Map.of("name", "http", "containerPort", 8080, "protocol", "TCP"),
				Map.of("name", "management", "containerPort", 8081, "protocol", "TCP"));
		Map<String, Object> service = manifests.named("Service", FULLNAME);
		assertThat(map(service, "spec")).containsEntry("type", "ClusterIP");
		assertThat(list(service, "spec", "ports"))
			.containsExactly(Map.of("name", "http", "port", 8080, "targetPort", "http", "protocol", "TCP"));
		Map<String, Object> management = manifests.named("Service", FULLNAME + "-management");
		assertThat(map(management, "spec")).containsEntry("type", "ClusterIP");
		assertThat(list(management, "spec", "ports"))
			.containsExactly(Map.of("name", "management", "port", 8081, "targetPort", "management", "protocol", "TCP"));
	}

	@Test
	void keepsTheManagementServiceClusterIpWhenTheApiServiceIsALoadBalancer() {
		Manifests manifests = render(Map.of("service.type", "LoadBalancer"));
		assertThat(map(manifests.named("Service", FULLNAME), "spec")).containsEntry("type", "LoadBalancer");
		assertThat(list(manifests.named("Service", FULLNAME), "spec", "ports"))
			.noneMatch((port) -> "management".equals(port.get("name")));
		assertThat(map(manifests.named("Service", FULLNAME + "-management"), "spec")).containsEntry("type",
				"ClusterIP");
	}

	@Test
	void runsTwoReplicasWithARollingUpdateSpreadOverNodesByDefault() {
		Map<String, Object> spec = map(render().single("Deployment"), "spec");
		assertThat(spec).containsEntry("replicas", 2)
			.containsEntry("strategy",
					Map.of("type", "RollingUpdate", "rollingUpdate", Map.of("maxUnavailable", 0, "maxSurge", 1)));
		Map<String, Object> pod = map(map(spec, "template"), "spec");
		assertThat(list(pod, "topologySpreadConstraints")).singleElement().satisfies((constraint) -> {
			assertThat(constraint).containsEntry("maxSkew", 1)
				.containsEntry("topologyKey", "kubernetes.io/hostname")
				.containsEntry("whenUnsatisfiable", "ScheduleAnyway");
			assertThat(map(map(constraint, "labelSelector"), "matchLabels")).containsEntry("app.kubernetes.io/name",
					"tiergate");
		});
		assertThat(pod).containsEntry("terminationGracePeriodSeconds", 45);
		Map<String, Object> off = map(
				map(map(render(Map.of("topologySpread.enabled", "false")).single("Deployment"), "spec"), "template"),
				"spec");
		assertThat(off).doesNotContainKey("topologySpreadConstraints");
		assertThat(map(render(Map.of("strategy.type", "Recreate")).single("Deployment"), "spec"))
			.containsEntry("strategy", Map.of("type", "Recreate"));
	}

	@Test
	void passesLeaderElectionTheTierConfigMapAndShutdownToTheApplication() {
		Map<String, Map<String, Object>> env = env(
				render(Map.of("leaderElection.leaseDuration", "20s", "shutdown.drainDelay", "7s")));
		Map<String, String> values = new LinkedHashMap<>();
		env.forEach((name, variable) -> values.put(name, (String) variable.get("value")));
		assertThat(values).containsEntry("TIERGATE_CLUSTER_TIERS_CONFIG_MAP", "tiergate-tiers")
			.containsEntry("TIERGATE_CLUSTER_LEADER_ELECTION_LEASE_NAME", "tiergate-leader")
			.containsEntry("TIERGATE_CLUSTER_LEADER_ELECTION_LEASE_DURATION", "20s")
			.containsEntry("TIERGATE_CLUSTER_LEADER_ELECTION_RENEW_DEADLINE", "10s")
			.containsEntry("TIERGATE_CLUSTER_LEADER_ELECTION_RETRY_PERIOD", "2s")
			.containsEntry("TIERGATE_SHUTDOWN_DRAIN_DELAY", "7s")
			.containsEntry("SPRING_LIFECYCLE_TIMEOUT_PER_SHUTDOWN_PHASE", "30s");
		assertThat(map(env.get("TIERGATE_CLUSTER_OWN_NAMESPACE"), "valueFrom", "fieldRef")).containsEntry("fieldPath",
				"metadata.namespace");
	}

	@Test
	void grantsLeasesTierConfigMapsAndEventsInTheReleaseNamespace() {
		Manifests manifests = render();
		Map<String, Object> role = manifests.named("Role", FULLNAME + "-coordination");
		assertThat(map(role, "metadata")).containsEntry("namespace", NAMESPACE);
		assertThat(list(role, "rules")).containsExactly(
				Map.of("apiGroups", List.of("coordination.k8s.io"), "resources", List.of("leases"), "verbs",
						List.of("get", "list", "watch", "create", "update")),
				Map.of("apiGroups", List.of(""), "resources", List.of("configmaps"), "verbs",
						List.of("get", "list", "watch", "create", "update")),
				Map.of("apiGroups", List.of(""), "resources", List.of("events"), "verbs", List.of("create")));
		Map<String, Object> binding = manifests.named("RoleBinding", FULLNAME + "-coordination");
		assertThat(map(binding, "roleRef")).containsEntry("name", FULLNAME + "-coordination");
		assertThat(render(Map.of("rbac.create", "false")).ofKind("Role")).isEmpty();
	}

	@Test
	void defaultsImageTagToAppVersion() throws IOException {
		Map<String, Object> chart = new Yaml(new SafeConstructor(new LoaderOptions()))
			.load(Files.readString(CHART.resolve("Chart.yaml")));
		Map<String, Object> container = container(podSpec(render()));
		assertThat(container).containsEntry("image", "ghcr.io/tiergate/tiergate:" + chart.get("appVersion"));
		assertThat(container(podSpec(render(Map.of("image.tag", "1.2.3"))))).containsEntry("image",
				"ghcr.io/tiergate/tiergate:1.2.3");
	}

	@Test
	void requestsAndLimitsResourcesFromValues() {
		assertThat(map(container(podSpec(render())), "resources")).isEqualTo(
				Map.of("requests", Map.of("cpu", "500m", "memory", "1536Mi"), "limits", Map.of("memory", "1536Mi")));
	}

	@Test
	void labelsEveryObjectAndSelectsPodsByStableLabels() {
		Manifests manifests = render();
		assertThat(manifests.documents()).isNotEmpty()
			.allSatisfy((document) -> assertThat(map(document, "metadata", "labels"))
				.containsEntry("app.kubernetes.io/name", "tiergate")
				.containsEntry("app.kubernetes.io/instance", RELEASE)
				.containsEntry("app.kubernetes.io/managed-by", "Helm")
				.containsKeys("app.kubernetes.io/version", "helm.sh/chart"));
		Map<String, Object> selector = Map.of("app.kubernetes.io/name", "tiergate", "app.kubernetes.io/instance",
				RELEASE);
		Map<String, Object> deployment = manifests.single("Deployment");
		assertThat(map(deployment, "spec", "selector", "matchLabels")).isEqualTo(selector);
		assertThat(map(deployment, "spec", "template", "metadata", "labels")).containsAllEntriesOf(selector);
		assertThat(map(manifests.named("Service", FULLNAME), "spec", "selector")).isEqualTo(selector);
		assertThat(map(manifests.named("Service", FULLNAME + "-management"), "spec", "selector")).isEqualTo(selector);
	}

	@Test
	void setsNoAdminPasswordHashWhenAuthSecretIsUnset() {
		Manifests manifests = render();
		Map<String, Map<String, Object>> env = env(manifests);
		assertThat(env).doesNotContainKey("TIERGATE_SECURITY_ADMIN_PASSWORD_HASH");
		assertThat(env.get("TIERGATE_SECURITY_ADMIN_USERNAME")).containsEntry("value", "admin");
		assertThat(manifests.ofKind("Secret")).isEmpty();
	}

	@Test
	void readsAdminPasswordHashFromExistingSecret() {
		Map<String, Map<String, Object>> env = env(render(Map.of("auth.existingSecret", "tiergate-admin")));
		Map<String, Object> hash = env.get("TIERGATE_SECURITY_ADMIN_PASSWORD_HASH");
		assertThat(hash).doesNotContainKey("value");
		assertThat(map(hash, "valueFrom", "secretKeyRef"))
			.isEqualTo(Map.of("name", "tiergate-admin", "key", "admin-password-hash"));
	}

	@Test
	void readsRedisPasswordFromExistingSecretOnly() {
		Map<String, Map<String, Object>> defaults = env(render());
		assertThat(defaults.get("SPRING_DATA_REDIS_HOST")).containsEntry("value", "redis");
		assertThat(defaults.get("SPRING_DATA_REDIS_PORT")).containsEntry("value", "6379");
		assertThat(defaults).doesNotContainKey("SPRING_DATA_REDIS_PASSWORD");
		Map<String, Map<String, Object>> env = env(
				render(Map.of("redis.host", "redis-master.data", "redis.existingSecret", "redis-auth")));
		assertThat(env.get("SPRING_DATA_REDIS_HOST")).containsEntry("value", "redis-master.data");
		assertThat(map(env.get("SPRING_DATA_REDIS_PASSWORD"), "valueFrom", "secretKeyRef"))
			.isEqualTo(Map.of("name", "redis-auth", "key", "redis-password"));
	}

	@Test
	void appendsExtraEnv() {
		Map<String, Map<String, Object>> env = env(
				render(Map.of("extraEnv[0].name", "LOGGING_LEVEL_DEV_TIERGATE", "extraEnv[0].value", "DEBUG")));
		assertThat(env.get("LOGGING_LEVEL_DEV_TIERGATE")).containsEntry("value", "DEBUG");
	}

	@Test
	void refusesToRenderWithoutAnExplicitChoiceOfWatchedNamespaces() {
		assertThatThrownBy(() -> new Helm(CHART).template()
			.withName(RELEASE)
			.withNamespace(NAMESPACE)
			.withKubeVersion(KUBE_VERSION)
			.call()).hasMessageContaining("cluster.namespaces is required");
		assertThatThrownBy(() -> render(Map.of("cluster.namespaces[0]", "a", "cluster.watchAllNamespaces", "true")))
			.hasMessageContaining("exclude each other");
	}

	@Test
	void passesTheSecondGateToTheApplication() {
		Map<String, Map<String, Object>> env = env(
				render(Map.of("cluster.namespaces[0]", "ml", "cluster.requiredPodLabel",
						"platform.example/approved=true", "cluster.requiredPodAnnotation", "platform.example/owner")));
		assertThat(env.get("TIERGATE_CLUSTER_REQUIRED_POD_LABEL")).containsEntry("value",
				"platform.example/approved=true");
		assertThat(env.get("TIERGATE_CLUSTER_REQUIRED_POD_ANNOTATION")).containsEntry("value",
				"platform.example/owner");
		assertThat(env(render())).doesNotContainKeys("TIERGATE_CLUSTER_REQUIRED_POD_LABEL",
				"TIERGATE_CLUSTER_REQUIRED_POD_ANNOTATION");
	}

	@Test
	void grantsReadOnlyAccessToNodesAndPodsClusterWideWhenWatchingAllNamespaces() {
		Manifests manifests = render(Map.of("cluster.watchAllNamespaces", "true"));
		assertThat(env(manifests).get("TIERGATE_CLUSTER_NAMESPACES")).containsEntry("value", "");
		List<Map<String, Object>> rules = readRules(list(manifests.single("ClusterRole"), "rules"));
		assertThat(rules).allSatisfy(HelmChartTests::assertReadOnlyCoreRule);
		assertThat(resources(rules)).containsExactlyInAnyOrder("nodes", "pods");
		assertThat(manifests.ofKind("Role")).extracting((role) -> map(role, "metadata").get("name"))
			.containsExactlyInAnyOrder(FULLNAME + "-sharing", FULLNAME + "-coordination", FULLNAME + "-gpu-exporters");
		assertThat(manifests.ofKind("RoleBinding")).extracting((role) -> map(role, "metadata").get("name"))
			.containsExactlyInAnyOrder(FULLNAME + "-sharing", FULLNAME + "-coordination", FULLNAME + "-gpu-exporters");
		Map<String, Object> binding = manifests.single("ClusterRoleBinding");
		assertThat(map(binding, "roleRef")).containsEntry("kind", "ClusterRole").containsEntry("name", FULLNAME);
		assertThat(list(binding, "subjects")).containsExactly(serviceAccount(FULLNAME));
	}

	@Test
	void grantsPodAccessOnlyInListedNamespaces() {
		Manifests manifests = render(Map.of("cluster.namespaces[0]", "a", "cluster.namespaces[1]", "b"));
		assertThat(env(manifests).get("TIERGATE_CLUSTER_NAMESPACES")).containsEntry("value", "a,b");
		List<Map<String, Object>> clusterRules = readRules(list(manifests.single("ClusterRole"), "rules"));
		assertThat(clusterRules).allSatisfy(HelmChartTests::assertReadOnlyCoreRule);
		assertThat(resources(clusterRules)).containsExactly("nodes");
		List<Map<String, Object>> roles = withoutSharing(manifests.ofKind("Role"));
		assertThat(roles).extracting((role) -> map(role, "metadata").get("namespace"))
			.containsExactlyInAnyOrder("a", "b");
		assertThat(roles).allSatisfy((role) -> {
			List<Map<String, Object>> rules = list(role, "rules");
			assertThat(rules).allSatisfy(HelmChartTests::assertReadOnlyCoreRule);
			assertThat(resources(rules)).containsExactly("pods");
		});
		List<Map<String, Object>> bindings = withoutSharing(manifests.ofKind("RoleBinding"));
		assertThat(bindings).extracting((binding) -> map(binding, "metadata").get("namespace"))
			.containsExactlyInAnyOrder("a", "b");
		assertThat(bindings).allSatisfy((binding) -> {
			assertThat(map(binding, "roleRef")).containsEntry("kind", "Role").containsEntry("name", FULLNAME);
			assertThat(list(binding, "subjects")).containsExactly(serviceAccount(FULLNAME));
		});
	}

	@Test
	void growsClusterWideOnlyByNodePatchAndPriorityClasses() {
		List<Map<String, Object>> writes = list(render().single("ClusterRole"), "rules").stream()
			.filter((rule) -> !READ_ONLY.equals(rule.get("verbs")))
			.toList();
		assertThat(writes).containsExactlyInAnyOrder(
				Map.of("apiGroups", List.of(""), "resources", List.of("nodes"), "verbs", List.of("patch")),
				Map.of("apiGroups", List.of("scheduling.k8s.io"), "resources", List.of("priorityclasses"), "verbs",
						List.of("get", "list", "watch", "create")),
				Map.of("apiGroups", List.of("scheduling.k8s.io"), "resources", List.of("priorityclasses"),
						"resourceNames", List.of("realtime-inference", "near-realtime-inference", "batch-inference"),
						"verbs", List.of("update", "delete")));
	}

	@Test
	void updatesAndDeletesEveryPriorityClassOnlyWhenNoNamesAreListed() {
		List<Map<String, Object>> rules = list(render(Map.of("rbac.priorityClassNames", "null")).single("ClusterRole"),
				"rules");
		assertThat(rules).contains(Map.of("apiGroups", List.of("scheduling.k8s.io"), "resources",
				List.of("priorityclasses"), "verbs", List.of("update", "delete")));
		List<Map<String, Object>> custom = list(
				render(Map.of("rbac.priorityClassNames[0]", "team-high")).single("ClusterRole"), "rules");
		assertThat(custom)
			.contains(Map.of("apiGroups", List.of("scheduling.k8s.io"), "resources", List.of("priorityclasses"),
					"resourceNames", List.of("team-high"), "verbs", List.of("update", "delete")));
	}

	@Test
	void grantsConfigMapsAndTheDevicePluginDaemonSetInTheSharingNamespaceOnly() {
		Manifests manifests = render(
				Map.of("sharing.namespace", "nvidia", "sharing.daemonSet", "dp", "gpuExporters.rbacCreate", "false"));
		Map<String, Object> role = manifests.named("Role", FULLNAME + "-sharing");
		assertThat(map(role, "metadata")).containsEntry("namespace", "nvidia");
		assertThat(list(role, "rules")).containsExactly(
				Map.of("apiGroups", List.of(""), "resources", List.of("configmaps"), "resourceNames",
						List.of("device-plugin-config"), "verbs", List.of("get", "update")),
				Map.of("apiGroups", List.of(""), "resources", List.of("configmaps"), "verbs", List.of("create")),
				Map.of("apiGroups", List.of("apps"), "resources", List.of("daemonsets"), "resourceNames", List.of("dp"),
						"verbs", List.of("get", "patch")));
		Map<String, Object> binding = manifests.named("RoleBinding", FULLNAME + "-sharing");
		assertThat(map(binding, "metadata")).containsEntry("namespace", "nvidia");
		assertThat(map(binding, "roleRef")).containsEntry("name", FULLNAME + "-sharing");
		assertThat(list(binding, "subjects")).containsExactly(serviceAccount(FULLNAME));
		Map<String, Map<String, Object>> env = env(manifests);
		assertThat(env.get("TIERGATE_SHARING_NAMESPACE")).containsEntry("value", "nvidia");
		assertThat(env.get("TIERGATE_SHARING_DAEMON_SET")).containsEntry("value", "dp");
		assertThat(env(render()).get("TIERGATE_SHARING_CONFIG_MAP")).containsEntry("value", "device-plugin-config");
	}

	@Test
	void grantsPodReadsInTheDcgmExportersNamespaceToFindThemByLabel() {
		Manifests manifests = render(Map.of("gpuExporters.namespace", "nvidia-gpu", "gpuExporters.labelSelector",
				"app.kubernetes.io/name=dcgm-exporter", "sharing.rbac.create", "false"));
		Map<String, Object> role = manifests.named("Role", FULLNAME + "-gpu-exporters");
		assertThat(map(role, "metadata")).containsEntry("namespace", "nvidia-gpu")
			.containsEntry("name", FULLNAME + "-gpu-exporters");
		assertThat(list(role, "rules"))
			.containsExactly(Map.of("apiGroups", List.of(""), "resources", List.of("pods"), "verbs", READ_ONLY));
		Map<String, Object> binding = manifests.named("RoleBinding", FULLNAME + "-gpu-exporters");
		assertThat(map(binding, "metadata")).containsEntry("namespace", "nvidia-gpu");
		assertThat(list(binding, "subjects")).containsExactly(serviceAccount(FULLNAME));
		Map<String, Map<String, Object>> env = env(manifests);
		assertThat(env.get("TIERGATE_CLUSTER_GPU_EXPORTERS_NAMESPACE")).containsEntry("value", "nvidia-gpu");
		assertThat(env.get("TIERGATE_CLUSTER_GPU_EXPORTERS_LABEL_SELECTOR")).containsEntry("value",
				"app.kubernetes.io/name=dcgm-exporter");
		assertThat(render(Map.of("gpuExporters.enabled", "false")).ofKind("Role"))
			.extracting((r) -> map(r, "metadata").get("name"))
			.containsExactlyInAnyOrder(FULLNAME + "-sharing", FULLNAME + "-coordination");
	}

	@Test
	void passesThePrometheusOfTheGpuChartToTheApplicationOnlyWhenSet() {
		Map<String, Map<String, Object>> defaults = env(render(Map.of()));
		assertThat(defaults).doesNotContainKey("TIERGATE_METRICS_PROMETHEUS_URL");
		assertThat(defaults.get("TIERGATE_METRICS_PROMETHEUS_TIMEOUT")).containsEntry("value", "2s");
		Map<String, Map<String, Object>> env = env(render(Map.of("metrics.prometheusUrl",
				"http://prometheus-operated.monitoring:9090", "metrics.prometheusTimeout", "500ms")));
		assertThat(env.get("TIERGATE_METRICS_PROMETHEUS_URL")).containsEntry("value",
				"http://prometheus-operated.monitoring:9090");
		assertThat(env.get("TIERGATE_METRICS_PROMETHEUS_TIMEOUT")).containsEntry("value", "500ms");
	}

	@Test
	void theReplicasShareTheSlotsThroughRedisByDefault() {
		Map<String, Map<String, Object>> env = env(render());
		assertThat(env.get("TIERGATE_REPLICAS_ENABLED")).containsEntry("value", "true");
		assertThat(env.get("TIERGATE_REPLICAS_HEARTBEAT_TTL")).containsEntry("value", "3s");
		assertThat(env.get("TIERGATE_REPLICAS_SYNC_INTERVAL")).containsEntry("value", "300ms");
		assertThat(env(render(Map.of("slotSharing.enabled", "false"))).get("TIERGATE_REPLICAS_ENABLED"))
			.containsEntry("value", "false");
	}

	@Test
	void leavesTheSharingRoleOutWhenItsNamespaceMayNotExistYet() {
		Manifests manifests = render(Map.of("sharing.rbac.create", "false", "gpuExporters.rbacCreate", "false"));
		assertThat(withoutCoordination(manifests.ofKind("Role"))).isEmpty();
		assertThat(withoutCoordination(manifests.ofKind("RoleBinding"))).isEmpty();
		assertThat(manifests.ofKind("ClusterRole")).hasSize(1);
		assertThat(notes(Map.of("sharing.rbac.create", "false"))).contains("sharing.rbac.create is false")
			.contains("configmaps (core)                     get, update on device-plugin-config; create")
			.contains("daemonsets (apps)                     get, patch on nvidia-device-plugin-daemonset")
			.doesNotContain("leases");
	}

	@Test
	void notesListEveryPermissionToGrantWhenRbacIsOff() {
		assertThat(notes(Map.of())).doesNotContain("grant the ServiceAccount");
		assertThat(notes(Map.of("rbac.create", "false")))
			.contains("grant the ServiceAccount " + NAMESPACE + "/" + FULLNAME)
			.contains("nodes (core)                          get, list, watch, patch")
			.contains("priorityclasses (scheduling.k8s.io)   get, list, watch, create; update, delete on "
					+ "realtime-inference, near-realtime-inference, batch-inference")
			.contains("pods (core)                           get, list, watch")
			.contains("in namespace gpu-operator (Role)")
			.contains("configmaps (core)                     get, update on device-plugin-config; create")
			.contains("daemonsets (apps)                     get, patch on nvidia-device-plugin-daemonset")
			.contains("in namespace " + NAMESPACE
					+ " (Role):\n    leases (coordination.k8s.io)          get, list, watch, create, update\n"
					+ "    configmaps (core)                     get, list, watch, create, update\n"
					+ "    events (core)                         create");
		assertThat(notes(Map.of("rbac.create", "false", "cluster.namespaces[0]", "ml")))
			.contains("in each of the namespaces ml (Role):");
	}

	@Test
	void refusesToBindTheDefaultServiceAccount() {
		assertThatException().isThrownBy(() -> render(Map.of("serviceAccount.create", "false")))
			.withMessageContaining("serviceAccount.name is required when serviceAccount.create is false");
		Manifests withoutRbac = render(Map.of("serviceAccount.create", "false", "rbac.create", "false"));
		assertThat(podSpec(withoutRbac)).containsEntry("serviceAccountName", "default");
		assertThat(withoutRbac.ofKind("ClusterRoleBinding")).isEmpty();
	}

	@Test
	void rendersNoRbacWhenDisabled() {
		Manifests manifests = render(Map.of("rbac.create", "false"));
		assertThat(manifests.documents()).extracting((document) -> document.get("kind"))
			.doesNotContain("ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding");
	}

	@Test
	void createsServiceAccountWithTokenForTheApiByDefault() {
		Manifests manifests = render();
		Map<String, Object> account = manifests.single("ServiceAccount");
		assertThat(map(account, "metadata")).containsEntry("name", FULLNAME).containsEntry("namespace", NAMESPACE);
		assertThat(account).containsEntry("automountServiceAccountToken", true);
		assertThat(podSpec(manifests)).containsEntry("serviceAccountName", FULLNAME)
			.containsEntry("automountServiceAccountToken", true);
	}

	@Test
	void bindsExistingServiceAccountWhenNotCreated() {
		Manifests manifests = render(Map.of("serviceAccount.create", "false", "serviceAccount.name", "ops"));
		assertThat(manifests.ofKind("ServiceAccount")).isEmpty();
		assertThat(podSpec(manifests)).containsEntry("serviceAccountName", "ops");
		assertThat(list(manifests.single("ClusterRoleBinding"), "subjects")).containsExactly(serviceAccount("ops"));
	}

	@Test
	void rendersNoServiceMonitorByDefault() {
		assertThat(render().ofKind("ServiceMonitor")).isEmpty();
	}

	@Test
	void scrapesManagementPortWhenServiceMonitorIsEnabled() {
		Manifests manifests = render(Map.of("serviceMonitor.enabled", "true", "serviceMonitor.labels.release", "kps"));
		Map<String, Object> monitor = manifests.single("ServiceMonitor");
		assertThat(monitor).containsEntry("apiVersion", "monitoring.coreos.com/v1");
		assertThat(map(monitor, "metadata", "labels")).containsEntry("release", "kps");
		assertThat(list(monitor, "spec", "endpoints")).singleElement()
			.satisfies((endpoint) -> assertThat(endpoint).containsEntry("port", "management")
				.containsEntry("path", "/actuator/prometheus"));
		Map<String, Object> serviceLabels = map(manifests.named("Service", FULLNAME + "-management"), "metadata",
				"labels");
		assertThat(serviceLabels).containsAllEntriesOf(map(monitor, "spec", "selector", "matchLabels"));
		assertThat(map(manifests.named("Service", FULLNAME), "metadata", "labels")).as("the API Service is not scraped")
			.doesNotContainEntry("app.kubernetes.io/component", "management");
	}

	@Test
	void keepsOneReplicaAvailableThroughVoluntaryDisruptionsByDefault() {
		assertThat(map(render().single("PodDisruptionBudget"), "spec")).containsEntry("minAvailable", 1)
			.doesNotContainKey("maxUnavailable");
		assertThat(render(Map.of("podDisruptionBudget.enabled", "false")).ofKind("PodDisruptionBudget")).isEmpty();
	}

	@Test
	void rendersPodDisruptionBudgetWithOneBoundWhenEnabled() {
		Map<String, Object> budget = render(
				Map.of("podDisruptionBudget.enabled", "true", "podDisruptionBudget.minAvailable", "null"))
			.single("PodDisruptionBudget");
		assertThat(map(budget, "spec")).containsEntry("maxUnavailable", 1).doesNotContainKey("minAvailable");
		Map<String, Object> minAvailable = render(
				Map.of("podDisruptionBudget.enabled", "true", "podDisruptionBudget.minAvailable", "0"))
			.single("PodDisruptionBudget");
		assertThat(map(minAvailable, "spec")).containsEntry("minAvailable", 0).doesNotContainKey("maxUnavailable");
	}

	@ParameterizedTest
	@CsvSource(delimiter = '|', textBlock = """
			replicaCount                  | -1          | at '/replicaCount': minimum
			replicaCount                  | two         | at '/replicaCount': got string, want integer
			redis.port                    | not-a-port  | at '/redis/port': got string, want integer
			redis.port                    | 70000       | at '/redis/port': maximum
			serviceAccount.create         | maybe       | at '/serviceAccount/create': got string, want boolean
			image.pullPolicy              | Sometimes   | at '/image/pullPolicy'
			cluster.namespaces[0]         | Not_A_Name  | at '/cluster/namespaces/0'
			resources.requests.memory     | lots        | at '/resources/requests/memory'
			podDisruptionBudget.enabled   | yes-please  | at '/podDisruptionBudget/enabled': got string, want boolean
			notAValue                     | 1           | additional properties 'notAValue' not allowed
			topologySpread.whenUnsatisfiable | Sometimes | at '/topologySpread/whenUnsatisfiable'
			leaderElection.leaseDuration  | soon        | at '/leaderElection/leaseDuration'
			strategy.foo                  | bar         | additional properties 'foo' not allowed
			strategy.rollingUpdate.maxUnavailable | 101% | at '/strategy/rollingUpdate/maxUnavailable'
			podDisruptionBudget.maxUnavailable | 150%   | at '/podDisruptionBudget/maxUnavailable'
			nameOverride                  | Foo_Bar     | at '/nameOverride'
			fullnameOverride              | -bad-       | at '/fullnameOverride'
			securityContext.privileged    | true        | at '/securityContext/privileged'
			securityContext.allowPrivilegeEscalation | true | at '/securityContext/allowPrivilegeEscalation'
			podSecurityContext.runAsNonRoot | false     | at '/podSecurityContext/runAsNonRoot'
			ingress.hosts[0].paths[0].pathType | Glob   | at '/ingress/hosts/0/paths/0/pathType'
			metrics.prometheusUrl         | prometheus:9090 | at '/metrics/prometheusUrl'
			metrics.prometheusTimeout     | soon        | at '/metrics/prometheusTimeout'
			""")
	void rejectsInvalidValues(String key, String value, String reason) {
		assertThatException().isThrownBy(() -> render(Map.of(key, value)))
			.withMessageContaining("values don't meet the specifications of the schema")
			.withMessageContaining(reason);
	}

	@Test
	void notesExplainHowToCreateTheAdminSecretWhenNoneIsGiven() {
		assertThat(notes(Map.of())).contains("no admin password is configured")
			.contains("create secret generic " + FULLNAME + "-admin")
			.contains("--from-literal=admin-password-hash=\"{bcrypt}${HASH}\"")
			.contains("--set auth.existingSecret=" + FULLNAME + "-admin");
		assertThat(notes(Map.of("auth.existingSecret", "tiergate-admin"))).doesNotContain("no admin password")
			.contains("Secret tiergate-admin (key admin-password-hash)");
	}

	@Test
	void rendersNoIngressNetworkPolicyOrBundledRedisByDefault() {
		Manifests manifests = render();
		assertThat(manifests.ofKind("Ingress")).isEmpty();
		assertThat(manifests.ofKind("NetworkPolicy")).isEmpty();
		assertThat(manifests.ofKind("StatefulSet")).isEmpty();
		assertThat(manifests.ofKind("PrometheusRule")).isEmpty();
		assertThat(manifests.ofKind("ConfigMap")).isEmpty();
	}

	@Test
	void routesIngressToTheHttpPortOnly() {
		Map<String, Object> ingress = render(Map.of("ingress.enabled", "true", "ingress.className", "nginx",
				"ingress.hosts[0].host", "tg.example.com", "ingress.hosts[0].paths[0].path", "/",
				"ingress.hosts[0].paths[0].pathType", "Prefix"))
			.single("Ingress");
		assertThat(map(ingress, "spec")).containsEntry("ingressClassName", "nginx");
		Map<String, Object> rule = list(ingress, "spec", "rules").get(0);
		assertThat(rule).containsEntry("host", "tg.example.com");
		assertThat(list(rule, "http", "paths")).singleElement()
			.satisfies((path) -> assertThat(map(path, "backend", "service"))
				.isEqualTo(Map.of("name", FULLNAME, "port", Map.of("name", "http"))));
	}

	@Test
	void networkPolicyOpensHttpAndLimitsManagementToTheGivenSources() {
		Map<String, Object> policy = render(Map.of("networkPolicy.enabled", "true",
				"networkPolicy.managementFrom[0].namespaceSelector.matchLabels.name", "monitoring"))
			.single("NetworkPolicy");
		assertThat(map(policy, "spec", "podSelector", "matchLabels")).containsEntry("app.kubernetes.io/name",
				"tiergate");
		List<Map<String, Object>> ingress = list(policy, "spec", "ingress");
		assertThat(ingress).hasSize(2);
		assertThat(ingress.get(0)).doesNotContainKey("from");
		assertThat(list(ingress.get(0), "ports")).containsExactly(Map.of("port", "http", "protocol", "TCP"));
		assertThat(list(ingress.get(1), "ports")).containsExactly(Map.of("port", "management", "protocol", "TCP"));
		assertThat(list(ingress.get(1), "from"))
			.containsExactly(Map.of("namespaceSelector", Map.of("matchLabels", Map.of("name", "monitoring"))));
	}

	@Test
	void bundledRedisRunsWithAppendOnlyFileAndTiergateUsesIt() {
		Manifests manifests = render(Map.of("redis.bundled.enabled", "true"));
		Map<String, Object> redis = manifests.single("StatefulSet");
		assertThat(map(redis, "spec")).containsEntry("replicas", 1);
		Map<String, Object> container = container(map(redis, "spec", "template", "spec"));
		@SuppressWarnings("unchecked")
		List<String> args = (List<String>) container.get("args");
		assertThat(String.join(" ", args)).contains("--appendonly yes").contains("--appendfsync everysec");
		assertThat(map(container, "securityContext")).containsEntry("allowPrivilegeEscalation", false)
			.containsEntry("readOnlyRootFilesystem", true);
		assertThat(list(redis, "spec", "volumeClaimTemplates")).hasSize(1);
		assertThat(env(manifests).get("SPRING_DATA_REDIS_HOST")).containsEntry("value", FULLNAME + "-redis");
		assertThat(map(manifests.named("Service", FULLNAME + "-redis"), "spec", "selector"))
			.containsEntry("app.kubernetes.io/component", "redis");
		assertThat(map(manifests.named("Service", FULLNAME), "spec", "selector"))
			.doesNotContainKey("app.kubernetes.io/component");
	}

	@Test
	void chartCarriesItsMetadata() throws IOException {
		Map<String, Object> chart = new Yaml(new SafeConstructor(new LoaderOptions()))
			.load(Files.readString(CHART.resolve("Chart.yaml")));
		assertThat(chart).containsKeys("home", "sources", "maintainers", "annotations", "kubeVersion", "keywords");
		assertThat(Files.readString(CHART.resolve("README.md"))).contains("## Values").contains("## Permissions");
	}

	static List<Path> ciValueFiles() throws IOException {
		try (var files = Files.list(CHART.resolve("ci"))) {
			return files.filter((file) -> file.toString().endsWith(".yaml")).sorted().toList();
		}
	}

	@ParameterizedTest
	@org.junit.jupiter.params.provider.MethodSource("ciValueFiles")
	void rendersEveryCiValueFile(Path values) {
		String rendered = new Helm(CHART).template()
			.withName(RELEASE)
			.withNamespace(NAMESPACE)
			.withKubeVersion(KUBE_VERSION)
			.withValuesFile(values)
			.call();
		Manifests manifests = Manifests.parse(rendered);
		assertThat(manifests.single("Deployment")).isNotNull();
		assertThat(manifests.documents()).allSatisfy((document) -> assertThat(map(document, "metadata", "labels"))
			.containsEntry("app.kubernetes.io/instance", RELEASE));
	}

	private static List<Map<String, Object>> readRules(List<Map<String, Object>> rules) {
		return rules.stream().filter((rule) -> READ_ONLY.equals(rule.get("verbs"))).toList();
	}

	private static List<Map<String, Object>> withoutCoordination(List<Map<String, Object>> objects) {
		return objects.stream()
			.filter((object) -> !(FULLNAME + "-coordination").equals(map(object, "metadata").get("name")))
			.toList();
	}

	private static List<Map<String, Object>> withoutSharing(List<Map<String, Object>> objects) {
		return objects.stream()
			.filter((object) -> !(FULLNAME + "-sharing").equals(map(object, "metadata").get("name"))
					&& !(FULLNAME + "-coordination").equals(map(object, "metadata").get("name"))
					&& !(FULLNAME + "-gpu-exporters").equals(map(object, "metadata").get("name")))
			.toList();
	}

	private static void assertReadOnlyCoreRule(Map<String, Object> rule) {
		assertThat(rule).containsEntry("apiGroups", List.of(""));
		assertThat(rule.get("verbs")).isEqualTo(READ_ONLY);
		assertThat(rule).containsOnlyKeys("apiGroups", "resources", "verbs");
	}

	@SuppressWarnings("unchecked")
	private static List<String> resources(List<Map<String, Object>> rules) {
		return rules.stream().flatMap((rule) -> ((List<String>) rule.get("resources")).stream()).toList();
	}

	private static Map<String, Object> serviceAccount(String name) {
		return Map.of("kind", "ServiceAccount", "name", name, "namespace", NAMESPACE);
	}

	private static Manifests render() {
		return render(Map.of());
	}

	private static Manifests render(Map<String, ?> values) {
		return Manifests.parse(template(values).call());
	}

	private static TemplateCommand template(Map<String, ?> values) {
		TemplateCommand template = new Helm(CHART).template()
			.withName(RELEASE)
			.withNamespace(NAMESPACE)
			.withKubeVersion(KUBE_VERSION);
		withWatchedNamespaces(values).forEach(template::set);
		return template;
	}

	/**
	 * The values, with the required choice of watched namespaces made (every namespace,
	 * as the chart's default was before the choice was required) unless the test chooses
	 * the cluster settings itself.
	 */
	private static Map<String, ?> withWatchedNamespaces(Map<String, ?> values) {
		if (values.keySet().stream().anyMatch((key) -> key.startsWith("cluster."))) {
			return values;
		}
		Map<String, Object> all = new java.util.LinkedHashMap<>(values);
		all.put("cluster.watchAllNamespaces", "true");
		return all;
	}

	private static String notes(Map<String, String> values) {
		var install = new Helm(CHART).install()
			.withName(RELEASE)
			.withNamespace(NAMESPACE)
			.withKubeVersion(KUBE_VERSION)
			.dryRun()
			.withDryRunOption(DryRun.CLIENT)
			.clientOnly();
		withWatchedNamespaces(values).forEach(install::set);
		return install.call().getOutput();
	}

	private static Map<String, Object> podSpec(Manifests manifests) {
		return map(manifests.single("Deployment"), "spec", "template", "spec");
	}

	private static Map<String, Object> container(Map<String, Object> podSpec) {
		List<Map<String, Object>> containers = list(podSpec, "containers");
		assertThat(containers).hasSize(1);
		return containers.get(0);
	}

	private static Map<String, Map<String, Object>> env(Manifests manifests) {
		Map<String, Map<String, Object>> env = new LinkedHashMap<>();
		for (Map<String, Object> variable : list(container(podSpec(manifests)), "env")) {
			assertThat(env.put((String) variable.get("name"), variable)).as("duplicate env %s", variable).isNull();
		}
		return env;
	}

	@SuppressWarnings("unchecked")
	private static Map<String, Object> map(Map<String, Object> node, String... path) {
		return (Map<String, Object>) at(node, path);
	}

	@SuppressWarnings("unchecked")
	private static List<Map<String, Object>> list(Map<String, Object> node, String... path) {
		return (List<Map<String, Object>>) at(node, path);
	}

	@SuppressWarnings("unchecked")
	private static Object at(Map<String, Object> node, String... path) {
		Object current = node;
		for (String key : path) {
			assertThat(current).as("parent of %s", key).isInstanceOf(Map.class);
			current = ((Map<String, Object>) current).get(key);
		}
		return current;
	}

	/**
	 * The objects of one rendering of the chart.
	 *
	 * @param documents the non-empty YAML documents, in rendering order
	 */
	private record Manifests(List<Map<String, Object>> documents) {

		@SuppressWarnings("unchecked")
		static Manifests parse(String rendered) {
			List<Map<String, Object>> documents = new ArrayList<>();
			for (Object document : new Yaml(new SafeConstructor(new LoaderOptions())).loadAll(rendered)) {
				if (document != null) {
					documents.add((Map<String, Object>) document);
				}
			}
			return new Manifests(List.copyOf(documents));
		}

		List<Map<String, Object>> ofKind(String kind) {
			Predicate<Map<String, Object>> ofKind = (document) -> Objects.equals(kind, document.get("kind"));
			return this.documents.stream().filter(ofKind).toList();
		}

		Map<String, Object> named(String kind, String name) {
			List<Map<String, Object>> named = ofKind(kind).stream()
				.filter((document) -> name.equals(map(document, "metadata").get("name")))
				.toList();
			assertThat(named).as("rendered %s %s", kind, name).hasSize(1);
			return named.get(0);
		}

		Map<String, Object> single(String kind) {
			List<Map<String, Object>> ofKind = ofKind(kind);
			assertThat(ofKind).as("rendered %s objects", kind).hasSize(1);
			return ofKind.get(0);
		}

	}

}
