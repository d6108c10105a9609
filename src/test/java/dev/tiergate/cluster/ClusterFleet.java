package dev.tiergate.cluster;

import java.util.List;
import java.util.Map;

import dev.tiergate.fleet.FleetObjects;
import dev.tiergate.fleet.KubernetesApiStandIn;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.AppsV1Api;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.apis.SchedulingV1Api;
import io.kubernetes.client.openapi.models.V1Container;
import io.kubernetes.client.openapi.models.V1DaemonSet;
import io.kubernetes.client.openapi.models.V1DaemonSetSpec;
import io.kubernetes.client.openapi.models.V1LabelSelector;
import io.kubernetes.client.openapi.models.V1Namespace;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1PodSpec;
import io.kubernetes.client.openapi.models.V1PodTemplateSpec;
import io.kubernetes.client.openapi.models.V1PriorityClass;

/**
 * A small fleet of its own for the tests that change the cluster (so the shared simulated
 * fleet stays as it is): a node without sharing, one time-sliced 4 ways, one shared by
 * MPS 2 ways, the GPU Operator's device plugin DaemonSet, a system and a foreign
 * PriorityClass, and inference pods in the tiers' classes. Started once per JVM.
 */
final class ClusterFleet {

	static final String NAMESPACE = "ml";

	private static KubernetesApiStandIn kubernetes;

	private ClusterFleet() {
	}

	static synchronized KubernetesApiStandIn shared() {
		if (kubernetes == null) {
			kubernetes = new KubernetesApiStandIn().start();
			try {
				seed(kubernetes.apiClient());
			}
			catch (ApiException ex) {
				kubernetes.close();
				throw new IllegalStateException("Cannot seed the cluster fleet: " + ex.getCode(), ex);
			}
			KubernetesApiStandIn started = kubernetes;
			Runtime.getRuntime().addShutdownHook(new Thread(started::close, "cluster-fleet-shutdown"));
		}
		return kubernetes;
	}

	private static void seed(ApiClient client) throws ApiException {
		CoreV1Api core = new CoreV1Api(client);
		core.createNamespace(
				new V1Namespace().apiVersion("v1").kind("Namespace").metadata(new V1ObjectMeta().name(NAMESPACE)))
			.execute();
		core.createNode(FleetObjects.gpuNode("plain-1", "NVIDIA-L4", 2, 1, "none", 23034)).execute();
		core.createNode(FleetObjects.gpuNode("ts4-1", "NVIDIA-A10G-SHARED", 2, 4, "time-slicing", 23028)).execute();
		core.createNode(FleetObjects.gpuNode("mps2-1", "NVIDIA-A100-SXM4-80GB", 4, 2, "mps", 81920)).execute();
		core.createNamespacedPod(NAMESPACE, FleetObjects.inferencePod(NAMESPACE, "rt-0", "llama", "ts4-1", "10.9.0.1",
				8000, 8, 1, "realtime-inference"))
			.execute();
		core.createNamespacedPod(NAMESPACE, FleetObjects.inferencePod(NAMESPACE, "batch-0", "llama", "ts4-1",
				"10.9.0.2", 8000, 8, 2, "batch-inference"))
			.execute();
		core.createNamespacedPod(NAMESPACE, FleetObjects.inferencePod(NAMESPACE, "nrt-0", "llama", "mps2-1", "10.9.0.3",
				8000, 8, 1, "near-realtime-inference"))
			.execute();
		core.createNamespacedPod(NAMESPACE,
				FleetObjects.inferencePod(NAMESPACE, "plain-0", "llama", "plain-1", "10.9.0.4", 8000, 8, 1, null))
			.execute();
		SchedulingV1Api scheduling = new SchedulingV1Api(client);
		scheduling
			.createPriorityClass(new V1PriorityClass().apiVersion("scheduling.k8s.io/v1")
				.kind("PriorityClass")
				.metadata(new V1ObjectMeta().name("system-node-critical"))
				.value(2_000_001_000))
			.execute();
		scheduling
			.createPriorityClass(new V1PriorityClass().apiVersion("scheduling.k8s.io/v1")
				.kind("PriorityClass")
				.metadata(new V1ObjectMeta().name("team-high").labels(Map.of("app.kubernetes.io/managed-by", "helm")))
				.value(5000))
			.execute();
		Map<String, String> labels = Map.of("app", "nvidia-device-plugin-daemonset");
		new AppsV1Api(client).createNamespacedDaemonSet("gpu-operator",
				new V1DaemonSet().apiVersion("apps/v1")
					.kind("DaemonSet")
					.metadata(new V1ObjectMeta().name("nvidia-device-plugin-daemonset").namespace("gpu-operator"))
					.spec(new V1DaemonSetSpec().selector(new V1LabelSelector().matchLabels(labels))
						.template(new V1PodTemplateSpec().metadata(new V1ObjectMeta().labels(labels))
							.spec(new V1PodSpec().containers(List.of(new V1Container().name("nvidia-device-plugin")
								.image("nvcr.io/nvidia/k8s-device-plugin:v0.17.0")))))))
			.execute();
	}

}
