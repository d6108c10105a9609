package dev.tiergate.cluster.internal;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.tiergate.audit.AuditEntry;
import dev.tiergate.cluster.ClusterConflictException;
import dev.tiergate.cluster.ClusterProperties;
import dev.tiergate.cluster.InvalidClusterChangeException;
import dev.tiergate.cluster.PriorityClasses;
import dev.tiergate.fleet.FleetObjects;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.apis.SchedulingV1Api;
import io.kubernetes.client.openapi.models.V1Namespace;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1PriorityClass;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Tests for {@link KubernetesPriorityClasses} against the Kubernetes API stand-in,
 * through the official client.
 */
class KubernetesPriorityClassesTests {

	private static final List<PriorityClasses.Spec> TIERS = List.of(
			new PriorityClasses.Spec("realtime-inference", 1_000_000, "PreemptLowerPriority", null, null, "P0"),
			new PriorityClasses.Spec("near-realtime-inference", 10_000, "PreemptLowerPriority", null, null, "P1"),
			new PriorityClasses.Spec("batch-inference", 100, "Never", null, null, "P2"));

	private ClusterWriteFixture fixture;

	private SchedulingV1Api scheduling;

	private KubernetesPriorityClasses classes;

	@BeforeEach
	void start() throws Exception {
		this.fixture = new ClusterWriteFixture();
		this.scheduling = new SchedulingV1Api(this.fixture.client);
		this.scheduling.createPriorityClass(foreign("system-cluster-critical", 2_000_000_000, Map.of())).execute();
		this.scheduling.createPriorityClass(foreign("team-high", 5000, Map.of("app.kubernetes.io/managed-by", "helm")))
			.execute();
		new CoreV1Api(this.fixture.client)
			.createNamespace(
					new V1Namespace().apiVersion("v1").kind("Namespace").metadata(new V1ObjectMeta().name("ml")))
			.execute();
		this.classes = new KubernetesPriorityClasses(this.fixture.client, new ClusterProperties("", List.of(),
				"tiergate.dev/model", java.time.Duration.ofMinutes(5), java.time.Duration.ofSeconds(5), 8000),
				this.fixture.audit);
	}

	@AfterEach
	void stop() {
		this.fixture.close();
	}

	private static V1PriorityClass foreign(String name, int value, Map<String, String> labels) {
		return new V1PriorityClass().apiVersion("scheduling.k8s.io/v1")
			.kind("PriorityClass")
			.metadata(new V1ObjectMeta().name(name).labels(labels))
			.value(value);
	}

	@Test
	void syncCreatesTheTierClassesOnceAndThenChangesNothing() {
		List<PriorityClasses.SyncChange> first = this.classes.sync(TIERS);
		assertThat(first).extracting(PriorityClasses.SyncChange::action).containsOnly("created");
		int audited = this.fixture.auditEntries().size();

		List<PriorityClasses.SyncChange> second = this.classes.sync(TIERS);

		assertThat(second).extracting(PriorityClasses.SyncChange::action).containsOnly("unchanged");
		assertThat(this.fixture.auditEntries()).hasSize(audited).hasSize(3);
		List<PriorityClasses.Info> listed = this.classes.list();
		assertThat(listed).extracting(PriorityClasses.Info::name)
			.containsExactly("system-cluster-critical", "realtime-inference", "near-realtime-inference", "team-high",
					"batch-inference");
		PriorityClasses.Info batch = listed.get(4);
		assertThat(batch.managed()).isTrue();
		assertThat(batch.readOnly()).isFalse();
		assertThat(batch.preemptionPolicy()).isEqualTo("Never");
		assertThat(batch.globalDefault()).isFalse();
		assertThat(batch.tierLabel()).isEqualTo("P2");
		assertThat(listed.get(3).readOnly()).isTrue();
		assertThat(listed.get(0).readOnly()).isTrue();
	}

	@Test
	void syncReplacesAClassWhoseValueChangedBecauseValuesAreImmutable() throws Exception {
		this.classes.sync(TIERS);
		List<PriorityClasses.SyncChange> changes = this.classes
			.sync(List.of(new PriorityClasses.Spec("batch-inference", 50, "Never", null, null, "P2")));
		assertThat(changes).containsExactly(new PriorityClasses.SyncChange("batch-inference", "replaced"));
		assertThat(this.scheduling.readPriorityClass("batch-inference").execute().getValue()).isEqualTo(50);
	}

	@Test
	void unmanagedAndSystemClassesCannotBeChanged() {
		assertThatExceptionOfType(ClusterConflictException.class)
			.isThrownBy(() -> this.classes.put(new PriorityClasses.Spec("team-high", 6000, "Never", null, null, null)))
			.withMessageContaining("not managed by Tiergate");
		assertThatExceptionOfType(ClusterConflictException.class).isThrownBy(() -> this.classes.delete("team-high"));
		assertThatExceptionOfType(ClusterConflictException.class).isThrownBy(() -> this.classes
			.put(new PriorityClasses.Spec("system-cluster-critical", 1000, "Never", null, null, null)));
		assertThatExceptionOfType(ClusterConflictException.class)
			.isThrownBy(() -> this.classes.delete("system-cluster-critical"));
		assertThatExceptionOfType(ClusterConflictException.class).isThrownBy(() -> this.classes
			.sync(List.of(new PriorityClasses.Spec("team-high", 100, "Never", null, null, "P2"))));
		assertThat(this.fixture.auditEntries()).isEmpty();
	}

	@Test
	void valuesAboveOneBillionAreRefused() {
		assertThatExceptionOfType(InvalidClusterChangeException.class).isThrownBy(
				() -> this.classes.put(new PriorityClasses.Spec("too-high", 1_000_000_001L, "Never", null, null, null)))
			.satisfies((ex) -> assertThat(ex.field()).isEqualTo("value"));
		assertThatExceptionOfType(InvalidClusterChangeException.class)
			.isThrownBy(() -> this.classes.put(new PriorityClasses.Spec("p", 1, "Sometimes", null, null, null)))
			.satisfies((ex) -> assertThat(ex.field()).isEqualTo("preemptionPolicy"));
	}

	@Test
	void globalDefaultOnlyOnRequestAndOnlyOne() {
		this.classes.sync(TIERS);
		assertThat(this.classes.list()).noneMatch(PriorityClasses.Info::globalDefault);
		this.classes.put(new PriorityClasses.Spec("batch-inference", 100, "Never", true, null, "P2"));
		assertThatExceptionOfType(ClusterConflictException.class)
			.isThrownBy(() -> this.classes.put(new PriorityClasses.Spec("realtime-inference", 1_000_000,
					"PreemptLowerPriority", true, null, "P0")))
			.satisfies((ex) -> assertThat(ex.conflicts()).containsExactly("batch-inference"));
		this.classes.sync(TIERS);
		assertThat(this.classes.list()).filteredOn(PriorityClasses.Info::globalDefault)
			.extracting(PriorityClasses.Info::name)
			.containsExactly("batch-inference");
	}

	@Test
	void deletingAClassThatRunningPodsUseIsRefusedListingThem() throws Exception {
		this.classes.sync(TIERS);
		CoreV1Api core = new CoreV1Api(this.fixture.client);
		core.createNamespacedPod("ml",
				FleetObjects.inferencePod("ml", "batch-0", "llama", "n1", "10.0.0.1", 8000, 8, 1, "batch-inference"))
			.execute();
		core.createNamespacedPod("ml",
				FleetObjects.inferencePod("ml", "batch-1", "llama", "n1", "10.0.0.2", 8000, 8, 1, "batch-inference"))
			.execute();

		assertThatExceptionOfType(ClusterConflictException.class)
			.isThrownBy(() -> this.classes.delete("batch-inference"))
			.satisfies((ex) -> assertThat(ex.conflicts()).containsExactly("ml/batch-0", "ml/batch-1"));
		assertThat(this.classes.list()).filteredOn((c) -> c.name().equals("batch-inference"))
			.singleElement()
			.extracting(PriorityClasses.Info::pods)
			.isEqualTo(2);

		this.classes.delete("near-realtime-inference");
		assertThat(this.fixture.auditEntries().get(0))
			.extracting(AuditEntry::kind, AuditEntry::action, AuditEntry::target)
			.containsExactly("priority-class", "delete", "near-realtime-inference");
	}

}
