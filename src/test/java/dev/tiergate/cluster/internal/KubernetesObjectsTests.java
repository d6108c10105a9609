package dev.tiergate.cluster.internal;

import java.time.OffsetDateTime;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.tiergate.cluster.GpuNode;
import dev.tiergate.cluster.InferencePod;
import io.kubernetes.client.custom.Quantity;
import io.kubernetes.client.openapi.models.V1Container;
import io.kubernetes.client.openapi.models.V1ContainerPort;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1NodeCondition;
import io.kubernetes.client.openapi.models.V1NodeStatus;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1Pod;
import io.kubernetes.client.openapi.models.V1PodCondition;
import io.kubernetes.client.openapi.models.V1PodSpec;
import io.kubernetes.client.openapi.models.V1PodStatus;
import io.kubernetes.client.openapi.models.V1ResourceRequirements;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link KubernetesObjects}.
 */
class KubernetesObjectsTests {

	@Test
	void readsANodeAsTheGpuOperatorPublishesIt() {
		V1Node node = new V1Node()
			.metadata(new V1ObjectMeta().name("gpu-1")
				.labels(Map.of("nvidia.com/gpu.product", "NVIDIA-A100-SXM4-80GB", "nvidia.com/gpu.count", "4",
						"nvidia.com/gpu.replicas", "4", "nvidia.com/gpu.sharing-strategy", "mps",
						"nvidia.com/gpu.memory", "81920")))
			.status(new V1NodeStatus().capacity(Map.of("nvidia.com/gpu", new Quantity("16")))
				.allocatable(Map.of("nvidia.com/gpu", new Quantity("15")))
				.addConditionsItem(new V1NodeCondition().type("Ready").status("True")));
		assertThat(KubernetesObjects.node(node))
			.isEqualTo(new GpuNode("gpu-1", "NVIDIA-A100-SXM4-80GB", 4, 4, "mps", 81920, 16, 15, true));
	}

	@Test
	void aNodeWithoutGpusOrStatusMapsToZeros() {
		assertThat(KubernetesObjects.node(new V1Node().metadata(new V1ObjectMeta().name("cpu"))))
			.isEqualTo(new GpuNode("cpu", "", 0, 0, "", 0, 0, 0, false));
	}

	@Test
	void aModelLabelLeftWithANullValueByAMergePatchNamesNoModel() {
		java.util.HashMap<String, String> labels = new java.util.HashMap<>();
		labels.put("tiergate.dev/model", null);
		V1Pod pod = new V1Pod().metadata(new V1ObjectMeta().namespace("ml").name("llama-0").labels(labels));
		assertThat(KubernetesObjects.pod(pod, "tiergate.dev/model", 8000).model()).isEmpty();
	}

	@Test
	void readsAnInferencePod() {
		V1Pod pod = new V1Pod()
			.metadata(new V1ObjectMeta().namespace("ml")
				.name("llama-0")
				.uid("u1")
				.labels(Map.of("tiergate.dev/model", "llama"))
				.annotations(Map.of("tiergate.dev/max-concurrency", "12")))
			.spec(new V1PodSpec().nodeName("gpu-1")
				.priorityClassName("realtime-inference")
				.addContainersItem(new V1Container().name("vllm")
					.addPortsItem(new V1ContainerPort().name("metrics").containerPort(9000))
					.addPortsItem(new V1ContainerPort().name("http").containerPort(8080))
					.resources(new V1ResourceRequirements().requests(Map.of("nvidia.com/gpu", new Quantity("2"))))))
			.status(new V1PodStatus().podIP("10.0.0.7")
				.addConditionsItem(new V1PodCondition().type("Ready").status("True")));
		InferencePod mapped = KubernetesObjects.pod(pod, "tiergate.dev/model", 8000);
		assertThat(mapped).isEqualTo(new InferencePod("ml", "llama-0", "u1", "llama", "gpu-1", "10.0.0.7", 8080, 12, 2,
				"realtime-inference", true, false));
		assertThat(mapped.routable()).isTrue();
	}

	@Test
	void aPodWhoseEngineSchedulesByPriorityIsToldApart() {
		assertThat(KubernetesObjects.priorityScheduling(new V1Container().name("vllm")
			.args(java.util.List.of("--model", "llama", "--scheduling-policy", "priority")))).isTrue();
		assertThat(KubernetesObjects.priorityScheduling(new V1Container().name("vllm")
			.command(java.util.List.of("vllm", "serve", "llama", "--scheduling-policy=priority")))).isTrue();
		assertThat(KubernetesObjects.priorityScheduling(new V1Container().name("vllm")
			.command(java.util.List.of("sh", "-c", "exec vllm serve llama --scheduling-policy priority")))).isTrue();
		assertThat(KubernetesObjects
			.priorityScheduling(new V1Container().name("vllm").args(java.util.List.of("--scheduling-policy", "fcfs"))))
			.isFalse();
		assertThat(KubernetesObjects.priorityScheduling(new V1Container().name("vllm"))).isFalse();
	}

	@Test
	void aPodWithoutHttpPortUsesTheDefaultAndSharedGpusCount() {
		V1Pod pod = new V1Pod().metadata(new V1ObjectMeta().namespace("ml").name("p").labels(Map.of("m", "x")))
			.spec(new V1PodSpec().addContainersItem(new V1Container().name("c")
				.resources(new V1ResourceRequirements().limits(Map.of("nvidia.com/gpu.shared", new Quantity("1"))))));
		InferencePod mapped = KubernetesObjects.pod(pod, "m", 8000);
		assertThat(mapped.port()).isEqualTo(8000);
		assertThat(mapped.slices()).isEqualTo(1);
		assertThat(mapped.routable()).as("no IP, not ready").isFalse();
	}

	@Test
	void aPodBeingDeletedIsNotRoutable() {
		V1Pod pod = new V1Pod()
			.metadata(new V1ObjectMeta().namespace("ml")
				.name("p")
				.labels(Map.of("m", "x"))
				.deletionTimestamp(OffsetDateTime.now()))
			.status(new V1PodStatus().podIP("10.0.0.8")
				.addConditionsItem(new V1PodCondition().type("Ready").status("True")));
		InferencePod mapped = KubernetesObjects.pod(pod, "m", 8000);
		assertThat(mapped.terminating()).isTrue();
		assertThat(mapped.routable()).isFalse();
	}

}
