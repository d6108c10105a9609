package dev.tiergate.cluster.internal;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.tiergate.cluster.ClusterProperties;
import dev.tiergate.cluster.GpuExporter;
import dev.tiergate.cluster.GpuExporterProperties;
import dev.tiergate.fleet.FleetObjects;
import dev.tiergate.fleet.KubernetesApiStandIn;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1Namespace;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1Pod;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Tests for {@link InformerGpuExporters}: the DCGM exporter pods found by label in their
 * namespace through the official client's informer, against the Kubernetes API stand-in.
 */
class InformerGpuExportersTests {

	private final KubernetesApiStandIn api = new KubernetesApiStandIn().start();

	private final CoreV1Api core = new CoreV1Api(this.api.apiClient());

	private InformerGpuExporters exporters;

	@BeforeEach
	void createNamespaces() throws Exception {
		for (String ns : List.of("gpu-operator", "ml")) {
			this.core
				.createNamespace(
						new V1Namespace().apiVersion("v1").kind("Namespace").metadata(new V1ObjectMeta().name(ns)))
				.execute();
		}
	}

	@AfterEach
	void stop() {
		if (this.exporters != null) {
			this.exporters.stop();
		}
		this.api.close();
	}

	private void start(GpuExporterProperties properties) {
		ClusterProperties cluster = new ClusterProperties(this.api.url(), List.of(), "tiergate.dev/model",
				Duration.ofMinutes(5), Duration.ofSeconds(2), 8000);
		ApiClient client = new KubernetesClientConfiguration().kubernetesApiClient(cluster);
		this.exporters = new InformerGpuExporters(client, properties, Duration.ofMinutes(5).toMillis());
		this.exporters.start();
	}

	@Test
	void findsTheLabelledPodsOfItsNamespaceWithTheirMetricsPortAndFollowsChanges() throws Exception {
		this.core
			.createNamespacedPod("gpu-operator",
					FleetObjects.dcgmExporterPod("gpu-operator", "nvidia-dcgm-exporter-a", "gpu-1", "10.0.0.7", 9400))
			.execute();
		// Same label, other namespace: not the GPU Operator's.
		this.core.createNamespacedPod("ml", FleetObjects.dcgmExporterPod("ml", "impostor", "gpu-1", "10.0.0.8", 9400))
			.execute();
		// The right namespace, no label.
		V1Pod unlabelled = FleetObjects.dcgmExporterPod("gpu-operator", "something-else", "gpu-1", "10.0.0.9", 9400);
		unlabelled.getMetadata().setLabels(new java.util.HashMap<>(java.util.Map.of("app", "other")));
		this.core.createNamespacedPod("gpu-operator", unlabelled).execute();
		start(new GpuExporterProperties(true, "gpu-operator", "app=nvidia-dcgm-exporter", 9400, "/metrics"));

		await().atMost(Duration.ofSeconds(10)).until(() -> this.exporters.exporters().size() == 1);
		GpuExporter exporter = this.exporters.exporters().get(0);
		assertThat(exporter.key()).isEqualTo("gpu-operator/nvidia-dcgm-exporter-a");
		assertThat(exporter.nodeName()).isEqualTo("gpu-1");
		assertThat(exporter.scrapable()).isTrue();
		assertThat(exporter.uri()).hasToString("http://10.0.0.7:9400/metrics");

		await().atMost(Duration.ofSeconds(5)).until(() -> this.api.openWatches() == 1);
		this.core
			.createNamespacedPod("gpu-operator",
					FleetObjects.dcgmExporterPod("gpu-operator", "nvidia-dcgm-exporter-b", "gpu-2", "10.0.0.10", 19400))
			.execute();
		await().atMost(Duration.ofSeconds(10)).until(() -> this.exporters.exporters().size() == 2);
		assertThat(this.exporters.exporters().get(1).uri()).hasToString("http://10.0.0.10:19400/metrics");
		this.core.deleteNamespacedPod("nvidia-dcgm-exporter-a", "gpu-operator").execute();
		await().atMost(Duration.ofSeconds(10))
			.until(() -> this.exporters.exporters()
				.stream()
				.map(GpuExporter::key)
				.toList()
				.equals(List.of("gpu-operator/nvidia-dcgm-exporter-b")));
	}

	@Test
	void offItStartsNoInformerAndKnowsNoExporter() throws Exception {
		this.core
			.createNamespacedPod("gpu-operator",
					FleetObjects.dcgmExporterPod("gpu-operator", "nvidia-dcgm-exporter-a", "gpu-1", "10.0.0.7", 9400))
			.execute();
		start(new GpuExporterProperties(false, "gpu-operator", "app=nvidia-dcgm-exporter", 9400, "/metrics"));
		assertThat(this.exporters.isRunning()).isFalse();
		assertThat(this.exporters.exporters()).isEmpty();
		assertThat(this.api.openWatches()).isZero();
	}

}
