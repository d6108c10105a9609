package dev.tiergate.fleet;

import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1Pod;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * Tests for {@link FleetObjects}.
 */
class FleetObjectsTests {

	@Test
	void gpuNodeAdvertisesGpusTimesReplicasAsSlices() {
		V1Node node = FleetObjects.gpuNode("gpu-b", "NVIDIA-L4-SHARED", 2, 4, "time-slicing", 23034);

		assertThat(node.getApiVersion()).isEqualTo("v1");
		assertThat(node.getKind()).isEqualTo("Node");
		assertThat(node.getStatus().getCapacity().get("nvidia.com/gpu").getNumber()).isEqualByComparingTo("8");
		assertThat(node.getStatus().getAllocatable().get("nvidia.com/gpu").getNumber()).isEqualByComparingTo("8");
		assertThat(node.getStatus().getCapacity()).containsKeys("cpu", "memory", "pods");
		assertThat(node.getMetadata().getLabels()).containsEntry("nvidia.com/gpu.sharing-strategy", "time-slicing")
			.containsEntry("nvidia.com/gpu.present", "true")
			.containsEntry("kubernetes.io/hostname", "gpu-b");
	}

	@Test
	void gpuNodeRefusesWhatTheGpuOperatorWouldNotPublish() {
		assertThatIllegalArgumentException()
			.isThrownBy(() -> FleetObjects.gpuNode("n", "NVIDIA-L4", 1, 2, "none", 23034));
		assertThatIllegalArgumentException()
			.isThrownBy(() -> FleetObjects.gpuNode("n", "NVIDIA-H100", 1, 49, "mps", 81559));
		assertThatIllegalArgumentException()
			.isThrownBy(() -> FleetObjects.gpuNode("n", "NVIDIA-L4", 1, 2, "timeSlicing", 23034));
	}

	@Test
	void inferencePodIsRunningAndReadyWithItsSlicesAndSlots() {
		V1Pod pod = FleetObjects.inferencePod("inference", "llama-0", "llama-3-8b", "gpu-a", "10.0.0.10", 8000, 32, 1,
				"tiergate-p0");

		assertThat(pod.getApiVersion()).isEqualTo("v1");
		assertThat(pod.getKind()).isEqualTo("Pod");
		assertThat(pod.getSpec().getPriorityClassName()).isEqualTo("tiergate-p0");
		assertThat(pod.getMetadata().getAnnotations()).containsEntry("tiergate.dev/max-concurrency", "32");
		assertThat(pod.getStatus().getPhase()).isEqualTo("Running");
		assertThat(pod.getStatus().getConditions())
			.extracting((condition) -> condition.getType() + "=" + condition.getStatus())
			.contains("Ready=True", "ContainersReady=True");
		assertThat(pod.getStatus().getContainerStatuses()).singleElement()
			.satisfies((status) -> assertThat(status.getReady()).isTrue());
	}

	@Test
	void inferencePodRefusesAModelThatIsNotALabelValue() {
		assertThatIllegalArgumentException().isThrownBy(() -> FleetObjects.inferencePod("inference", "p",
				"meta-llama/Llama-3.1-8B-Instruct", "gpu-a", "10.0.0.10", 8000, 32, 1));
	}

}
