package dev.tiergate.cluster;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link SliceInventory}: the arithmetic on a fleet with mixed sharing
 * strategies.
 */
class SliceInventoryTests {

	private static InferencePod pod(String name, String node, int slices, String priorityClass) {
		return new InferencePod("ml", name, name, "llama", node, "10.0.0.1", 8000, 8, slices, priorityClass, true,
				false);
	}

	@Test
	void countsSlicesOnNodesWithoutSharingTimeSlicingFourAndMpsTwo() {
		List<GpuNode> nodes = List.of(new GpuNode("plain", "NVIDIA-L4", 2, 1, "none", 23034, 2, 2, true),
				new GpuNode("ts4", "NVIDIA-A10G-SHARED", 2, 4, "time-slicing", 23028, 8, 8, true),
				new GpuNode("mps2", "NVIDIA-A100-SXM4-80GB", 4, 2, "mps", 81920, 8, 7, true));
		List<InferencePod> pods = List.of(pod("a", "plain", 1, "realtime-inference"),
				pod("b", "ts4", 1, "realtime-inference"), pod("c", "ts4", 2, "batch-inference"), pod("d", "ts4", 1, ""),
				pod("e", "mps2", 1, "near-realtime-inference"), pod("f", "mps2", 1, "batch-inference"),
				pod("g", "mps2", 1, "other-class"), pod("unscheduled", "", 1, "batch-inference"));
		Map<String, String> tiers = Map.of("realtime-inference", "P0", "near-realtime-inference", "P1",
				"batch-inference", "P2");

		SliceInventory inventory = SliceInventory.of(nodes, pods, tiers::get);

		SliceInventory.NodeSlices plain = inventory.nodes().get(1);
		assertThat(plain.node()).isEqualTo("plain");
		assertThat(plain.capacity()).isEqualTo(2);
		assertThat(plain.requested()).isEqualTo(1);
		assertThat(plain.free()).isEqualTo(1);
		SliceInventory.NodeSlices ts4 = inventory.nodes().get(2);
		assertThat(ts4.strategy()).isEqualTo("time-slicing");
		assertThat(ts4.capacity()).isEqualTo(8);
		assertThat(ts4.requested()).isEqualTo(4);
		assertThat(ts4.requestedByTier()).isEqualTo(Map.of("P0", 1, "P2", 2, "none", 1));
		assertThat(ts4.requestedByPriorityClass())
			.isEqualTo(Map.of("realtime-inference", 1, "batch-inference", 2, "", 1));
		assertThat(ts4.free()).isEqualTo(4);
		SliceInventory.NodeSlices mps2 = inventory.nodes().get(0);
		assertThat(mps2.node()).isEqualTo("mps2");
		assertThat(mps2.capacity()).isEqualTo(8);
		assertThat(mps2.allocatable()).isEqualTo(7);
		assertThat(mps2.requested()).isEqualTo(3);
		assertThat(mps2.requestedByTier()).isEqualTo(Map.of("P1", 1, "P2", 1, "none", 1));
		assertThat(mps2.free()).isEqualTo(4);

		SliceInventory.Totals totals = inventory.totals();
		assertThat(totals.nodes()).isEqualTo(3);
		assertThat(totals.gpus()).isEqualTo(8);
		assertThat(totals.capacity()).isEqualTo(18);
		assertThat(totals.allocatable()).isEqualTo(17);
		assertThat(totals.requested()).isEqualTo(8);
		assertThat(totals.free()).isEqualTo(9);
		assertThat(totals.requestedByTier()).isEqualTo(Map.of("P0", 2, "P1", 1, "P2", 3, "none", 2));
		assertThat(totals.utilizationPercent()).isEqualTo(47.1);
	}

	@Test
	void emptyClusterHasZeroUtilization() {
		assertThat(SliceInventory.of(List.of(), List.of(), (c) -> null).totals().utilizationPercent()).isZero();
	}

}
