package dev.tiergate.cluster.internal;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.util.unit.DataSize;

import dev.tiergate.audit.AuditEntry;
import dev.tiergate.cluster.ClusterConflictException;
import dev.tiergate.cluster.InMemoryClusterView;
import dev.tiergate.cluster.InferencePod;
import dev.tiergate.cluster.InvalidClusterChangeException;
import dev.tiergate.cluster.SharingProfile;
import dev.tiergate.cluster.SharingProfiles;
import dev.tiergate.cluster.SharingProperties;
import dev.tiergate.fleet.FleetObjects;
import io.kubernetes.client.openapi.apis.AppsV1Api;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1ConfigMap;
import io.kubernetes.client.openapi.models.V1Node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Tests for {@link KubernetesSharingProfiles} against the Kubernetes API stand-in,
 * through the official client.
 */
class KubernetesSharingProfilesTests {

	private static final String LABEL = "nvidia.com/device-plugin.config";

	private static final String ANNOTATION = "tiergate.dev/restartedAt";

	private ClusterWriteFixture fixture;

	private CoreV1Api core;

	private InMemoryClusterView view;

	private KubernetesSharingProfiles profiles;

	@BeforeEach
	void start() throws Exception {
		this.fixture = new ClusterWriteFixture();
		this.core = new CoreV1Api(this.fixture.client);
		this.core.createNode(FleetObjects.gpuNode("a100-1", "NVIDIA-A100-SXM4-80GB", 4, 1, "none", 81920)).execute();
		this.core.createNode(FleetObjects.gpuNode("a100-2", "NVIDIA-A100-SXM4-80GB", 4, 1, "none", 81920)).execute();
		this.core.createNode(FleetObjects.gpuNode("l4-1", "NVIDIA-L4", 2, 1, "none", 23034)).execute();
		V1Node mig = FleetObjects.gpuNode("h100-mig", "NVIDIA-H100-80GB-HBM3", 8, 1, "none", 81559);
		mig.getMetadata().getLabels().put("nvidia.com/mig.strategy", "single");
		this.core.createNode(mig).execute();
		this.fixture.createDevicePluginDaemonSet("gpu-operator", "nvidia-device-plugin-daemonset");
		this.view = new InMemoryClusterView();
		this.view.upsert(new InferencePod("ml", "qwen-0", "u1", "qwen2.5-32b-instruct", "a100-1", "10.0.0.1", 8000, 4,
				1, "", true, false));
		this.profiles = new KubernetesSharingProfiles(this.fixture.client,
				new SharingProperties("gpu-operator", "device-plugin-config", "nvidia-device-plugin-daemonset", LABEL,
						ANNOTATION, Map.of("qwen2.5-32b-instruct", DataSize.ofGigabytes(70))),
				this.view, this.fixture.audit, this.fixture.clock);
	}

	@AfterEach
	void stop() {
		this.fixture.close();
	}

	private static SharingProfile mps(String name, int replicas) {
		return new SharingProfile(name, "mps", replicas, null, false, true, null, null);
	}

	private Map<String, String> configMapData() throws Exception {
		V1ConfigMap configMap = this.core.readNamespacedConfigMap("device-plugin-config", "gpu-operator").execute();
		return configMap.getData();
	}

	private String nodeLabel(String node) throws Exception {
		return this.core.readNode(node).execute().getMetadata().getLabels().get(LABEL);
	}

	private String restartAnnotation() throws Exception {
		Map<String, String> annotations = new AppsV1Api(this.fixture.client)
			.readNamespacedDaemonSet("nvidia-device-plugin-daemonset", "gpu-operator")
			.execute()
			.getSpec()
			.getTemplate()
			.getMetadata()
			.getAnnotations();
		return (annotations != null) ? annotations.get(ANNOTATION) : null;
	}

	@Test
	void previewThenApplyChangesConfigMapNodeLabelAndDaemonSetExactlyAsPreviewed() throws Exception {
		SharingProfiles.Target target = new SharingProfiles.Target(List.of("a100-2"), "");
		SharingProfiles.Preview preview = this.profiles.preview(mps("mps-4", 4), target);

		assertThat(preview.before()).isEmpty();
		assertThat(preview.after()).isEqualTo(mps("mps-4", 4).toYaml());
		assertThat(preview.diff()).allMatch((line) -> line.startsWith("+")).contains("+version: v1");
		assertThat(preview.configMapChanges()).isTrue();
		assertThat(preview.nodes()).singleElement().satisfies((node) -> {
			assertThat(node.node()).isEqualTo("a100-2");
			assertThat(node.labelBefore()).isEmpty();
			assertThat(node.labelAfter()).isEqualTo("mps-4");
			assertThat(node.slicesBefore()).isEqualTo(4);
			assertThat(node.slicesAfter()).isEqualTo(16);
			assertThat(node.strategyAfter()).isEqualTo("mps");
		});
		assertThat(preview.restart()).isTrue();
		assertThat(restartAnnotation()).isNull();
		assertThat(this.fixture.auditEntries()).isEmpty();

		SharingProfiles.Applied applied = this.profiles.apply(mps("mps-4", 4), target);

		assertThat(applied.preview()).isEqualTo(preview);
		assertThat(configMapData()).containsExactly(Map.entry("mps-4", preview.after()));
		assertThat(nodeLabel("a100-2")).isEqualTo("mps-4");
		assertThat(nodeLabel("a100-1")).isNull();
		assertThat(restartAnnotation()).isEqualTo("2026-11-02T09:30:00Z").isEqualTo(applied.restartedAt());
		assertThat(this.fixture.auditEntries()).extracting(AuditEntry::kind, AuditEntry::target, AuditEntry::after)
			.containsExactly(
					org.assertj.core.groups.Tuple.tuple("device-plugin-restart",
							"gpu-operator/nvidia-device-plugin-daemonset", ANNOTATION + "=2026-11-02T09:30:00Z"),
					org.assertj.core.groups.Tuple.tuple("node-label", "a100-2", LABEL + "=mps-4"),
					org.assertj.core.groups.Tuple.tuple("sharing-profile", "mps-4", preview.after()));
	}

	@Test
	void applyingTwiceChangesNothingTheSecondTime() throws Exception {
		SharingProfiles.Target target = new SharingProfiles.Target(List.of(),
				"nvidia.com/gpu.product=NVIDIA-A100-SXM4-80GB");
		SharingProfiles.Applied first = this.profiles.apply(mps("mps-2", 2), target);
		assertThat(first.labelledNodes()).containsExactly("a100-1", "a100-2");
		String resourceVersion = this.core.readNamespacedConfigMap("device-plugin-config", "gpu-operator")
			.execute()
			.getMetadata()
			.getResourceVersion();
		int audited = this.fixture.auditEntries().size();

		SharingProfiles.Preview again = this.profiles.preview(mps("mps-2", 2), target);
		SharingProfiles.Applied second = this.profiles.apply(mps("mps-2", 2), target);

		assertThat(again.changes()).isFalse();
		assertThat(again.restart()).isFalse();
		assertThat(again.diff()).allMatch((line) -> line.startsWith(" "));
		assertThat(second.configMapWritten()).isFalse();
		assertThat(second.labelledNodes()).isEmpty();
		assertThat(second.restartedAt()).isEmpty();
		assertThat(this.core.readNamespacedConfigMap("device-plugin-config", "gpu-operator")
			.execute()
			.getMetadata()
			.getResourceVersion()).isEqualTo(resourceVersion);
		assertThat(this.fixture.auditEntries()).hasSize(audited);
	}

	@Test
	void setBasedSelectorIsEvaluatedHereEvenWhenTheServerIgnoresIt() {
		SharingProfiles.Preview preview = this.profiles.preview(
				new SharingProfile("ts-2", "time-slicing", 2, null, false, false, null, null),
				new SharingProfiles.Target(List.of(), "nvidia.com/gpu.product in (NVIDIA-L4)"));
		assertThat(preview.nodes()).extracting(SharingProfiles.NodePlan::node).containsExactly("l4-1");
	}

	@Test
	void refusesMpsOnMigNodes() {
		assertThatExceptionOfType(InvalidClusterChangeException.class)
			.isThrownBy(() -> this.profiles.apply(mps("mps-2", 2), new SharingProfiles.Target(List.of("h100-mig"), "")))
			.satisfies((ex) -> assertThat(ex.field()).isEqualTo("strategy"))
			.withMessageContaining("h100-mig");
		assertThat(this.fixture.auditEntries()).isEmpty();
	}

	@Test
	void refusesUnknownNodesNamingTheField() {
		assertThatExceptionOfType(InvalidClusterChangeException.class)
			.isThrownBy(() -> this.profiles.preview(mps("mps-2", 2), new SharingProfiles.Target(List.of("nope"), "")))
			.satisfies((ex) -> assertThat(ex.field()).isEqualTo("nodes"));
	}

	@Test
	void warnsWhenPerReplicaMemoryIsBelowAModelsFootprint() {
		SharingProfiles.Preview preview = this.profiles.preview(mps("mps-4", 4),
				new SharingProfiles.Target(List.of("a100-1"), ""));
		assertThat(preview.warnings()).singleElement()
			.asString()
			.contains("a100-1")
			.contains("20480 MiB per replica")
			.contains("qwen2.5-32b-instruct");
	}

	@Test
	void showsDesiredAgainstLiveAndFlagsDrift() throws Exception {
		this.profiles.apply(mps("mps-4", 4), new SharingProfiles.Target(List.of("a100-1"), ""));
		// What GPU Feature Discovery publishes once the device plugin runs the profile.
		V1Node live = FleetObjects.gpuNode("a100-2", "NVIDIA-A100-SXM4-80GB", 4, 4, "mps", 81920);
		live.getMetadata().getLabels().put(LABEL, "mps-4");
		live.getMetadata().resourceVersion(null);
		this.core.replaceNode("a100-2", live).execute();

		Map<String, SharingProfiles.NodeStatus> byNode = new java.util.TreeMap<>();
		this.profiles.nodes().forEach((n) -> byNode.put(n.node(), n));

		assertThat(byNode.get("a100-1").drift()).isTrue();
		assertThat(byNode.get("a100-1").reasons()).contains("strategy is none, profile says mps");
		assertThat(byNode.get("a100-2").drift()).isFalse();
		assertThat(byNode.get("a100-2").desiredReplicas()).isEqualTo(4);
		assertThat(byNode.get("l4-1").profile()).isEmpty();
		assertThat(byNode.get("l4-1").drift()).isFalse();
		assertThat(byNode.get("h100-mig").mig()).isTrue();
	}

	@Test
	void putStoresTheKeyAndDeleteRefusesAProfileNodesStillUse() throws Exception {
		SharingProfiles.Saved saved = this.profiles.put(mps("mps-3", 3));
		assertThat(saved.changed()).isTrue();
		assertThat(this.profiles.put(mps("mps-3", 3)).changed()).isFalse();
		assertThat(this.profiles.get("mps-3").profile()).isEqualTo(mps("mps-3", 3).withDefaults());
		this.profiles.apply(mps("mps-3", 3), new SharingProfiles.Target(List.of("l4-1"), ""));

		assertThatExceptionOfType(ClusterConflictException.class).isThrownBy(() -> this.profiles.delete("mps-3"))
			.satisfies((ex) -> assertThat(ex.conflicts()).containsExactly("l4-1"));

		this.profiles.put(mps("unused", 2));
		this.profiles.delete("unused");
		assertThat(configMapData()).containsOnlyKeys("mps-3");
		assertThat(this.fixture.auditEntries()).extracting(AuditEntry::action).startsWith("delete");
	}

}
