package dev.tiergate;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One processor is left to the platform threads, never the last one, and a carrier count
 * set on the command line is kept.
 */
class VirtualThreadCarriersTests {

	@Test
	void oneFewerCarrierThanProcessorsButAtLeastOne() {
		assertThat(VirtualThreadCarriers.carriers(1)).isEqualTo(1);
		assertThat(VirtualThreadCarriers.carriers(2)).isEqualTo(1);
		assertThat(VirtualThreadCarriers.carriers(16)).isEqualTo(15);
	}

	@Test
	void aCountSetOnTheCommandLineIsKept() {
		String before = System.getProperty(VirtualThreadCarriers.PARALLELISM);
		try {
			System.setProperty(VirtualThreadCarriers.PARALLELISM, "3");
			VirtualThreadCarriers.leaveOneProcessor();
			assertThat(System.getProperty(VirtualThreadCarriers.PARALLELISM)).isEqualTo("3");
			System.clearProperty(VirtualThreadCarriers.PARALLELISM);
			VirtualThreadCarriers.leaveOneProcessor();
			assertThat(System.getProperty(VirtualThreadCarriers.PARALLELISM)).isEqualTo(
					Integer.toString(VirtualThreadCarriers.carriers(Runtime.getRuntime().availableProcessors())));
		}
		finally {
			if (before == null) {
				System.clearProperty(VirtualThreadCarriers.PARALLELISM);
			}
			else {
				System.setProperty(VirtualThreadCarriers.PARALLELISM, before);
			}
		}
	}

}
