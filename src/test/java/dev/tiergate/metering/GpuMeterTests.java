package dev.tiergate.metering;

import java.lang.ref.WeakReference;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.Map;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import dev.tiergate.cluster.GpuNode;
import dev.tiergate.cluster.InMemoryClusterView;
import dev.tiergate.cluster.InferencePod;
import dev.tiergate.dispatch.Admission;
import dev.tiergate.dispatch.DispatchProperties;
import dev.tiergate.dispatch.DispatchRuntime;
import dev.tiergate.routing.EndpointRegistry;
import dev.tiergate.routing.MutableClock;
import dev.tiergate.routing.RoutingProperties;
import dev.tiergate.tier.Tier;
import dev.tiergate.tier.TierProperties;
import dev.tiergate.tier.Tiers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Tests for {@link GpuMeter}: the live dispatch runtime's leases, on a fake clock.
 */
class GpuMeterTests {

	private static final LocalDate DAY = LocalDate.parse("2026-11-29");

	private final MutableClock clock = new MutableClock(Instant.parse("2026-11-29T12:00:00Z"));

	private final InMemoryClusterView cluster = new InMemoryClusterView();

	private final DispatchRuntime runtime = new DispatchRuntime(
			new EndpointRegistry(this.cluster, RoutingProperties.withSlots(2, Map.of())),
			new Tiers(TierProperties.DEFAULTS), new DispatchProperties(2, 1000, Duration.ofSeconds(1)), this.clock,
			new SimpleMeterRegistry());

	private final GpuMeter meter = new GpuMeter(this.cluster, this.clock);

	GpuMeterTests() {
		this.runtime.addLeaseListener(this.meter);
		// One GPU in 4 slices; the pod holds 2 of them and runs 2 sequences at once.
		this.cluster.addNode(new GpuNode("node-1", "NVIDIA-L4", 1, 4, "time-slicing", 23034, 4, 4, true));
		this.cluster
			.upsert(new InferencePod("default", "a", "a-uid", "m", "node-1", "127.0.0.1", 8000, 2, 2, "", true, false));
	}

	@Test
	void leasesOfTheLiveRuntimeAreChargedTheirShareOfTheSlicesBusyTime() throws Exception {
		Admission acme = this.runtime.admit("m", Tier.P0, "acme", 1, 10);
		acme.awaitSlot();
		this.clock.advance(Duration.ofSeconds(4));
		Admission beta = this.runtime.admit("m", Tier.P2, "beta", 1, 10);
		beta.awaitSlot();
		this.clock.advance(Duration.ofSeconds(6));
		acme.close();
		this.clock.advance(Duration.ofSeconds(2));
		beta.close();
		this.clock.advance(Duration.ofSeconds(30));
		GpuAttribution.Attribution drained = this.meter.drain();
		// Half the GPU: acme 4 s alone + 6 s of two; beta 6 s of two + 2 s alone.
		assertThat(drained.gpuSeconds().get(new GpuUsageKey("acme", Tier.P0, "m", DAY))).isCloseTo(3.5, within(1e-9));
		assertThat(drained.gpuSeconds().get(new GpuUsageKey("beta", Tier.P2, "m", DAY))).isCloseTo(2.5, within(1e-9));
		assertThat(drained.nodeBusySeconds().get("node-1")).isCloseTo(6.0, within(1e-9));
	}

	@Test
	void anEndedLeaseWaitingForTheDrainHoldsNeitherItsRequestNorItsTicket() throws Exception {
		WeakReference<Admission> ended = endOneLease();
		for (int i = 0; i < 50 && ended.get() != null; i++) {
			System.gc();
			Thread.sleep(10);
		}
		assertThat(ended.get()).as("the admission of a lease whose events wait for the drain").isNull();
		this.clock.advance(Duration.ofSeconds(10));
		assertThat(this.meter.drain().gpuSeconds())
			.containsExactly(Map.entry(new GpuUsageKey("acme", Tier.P1, "m", DAY), 1.5));
	}

	private WeakReference<Admission> endOneLease() throws Exception {
		Admission acme = this.runtime.admit("m", Tier.P1, "acme", 1, 10);
		acme.awaitSlot();
		this.clock.advance(Duration.ofSeconds(3));
		acme.close();
		return new WeakReference<>(acme);
	}

	@Test
	void aRunningLeaseIsChargedUpToEachDrain() throws Exception {
		Admission acme = this.runtime.admit("m", Tier.P1, "acme", 1, 10);
		acme.awaitSlot();
		this.clock.advance(Duration.ofSeconds(8));
		assertThat(this.meter.drain().gpuSeconds())
			.containsExactly(Map.entry(new GpuUsageKey("acme", Tier.P1, "m", DAY), 4.0));
		this.clock.advance(Duration.ofSeconds(2));
		acme.close();
		assertThat(this.meter.drain().gpuSeconds())
			.containsExactly(Map.entry(new GpuUsageKey("acme", Tier.P1, "m", DAY), 1.0));
	}

}
