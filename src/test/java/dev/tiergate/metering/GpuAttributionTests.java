package dev.tiergate.metering;

import java.time.Instant;
import java.time.LocalDate;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.tiergate.tier.Tier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Tests for {@link GpuAttribution}: every figure below is computed by hand.
 */
class GpuAttributionTests {

	private static final Instant T0 = Instant.parse("2026-11-29T10:00:00Z");

	private static final LocalDate DAY = LocalDate.parse("2026-11-29");

	private final GpuAttribution attribution = new GpuAttribution();

	private static long at(double seconds) {
		return T0.getEpochSecond() * 1_000_000_000L + Math.round(seconds * 1e9);
	}

	private static GpuUsageKey key(String tenant, Tier tier) {
		return new GpuUsageKey(tenant, tier, "llama", DAY);
	}

	@Test
	void tenantsSharingOneGpuSplitEachEndpointsBusyTimeByItsBatch() {
		// One GPU in 4 slices: endpoint a has 2 (half the GPU), endpoint b has 1.
		this.attribution.started("l1", "a", "n1", 0.5, 0, "acme", Tier.P0, "llama", at(0));
		this.attribution.started("l2", "a", "n1", 0.5, 0, "beta", Tier.P2, "llama", at(10));
		this.attribution.started("l3", "b", "n1", 0.25, 0, "beta", Tier.P1, "llama", at(20));
		// l2 is preempted in the middle of its run.
		this.attribution.ended("l2", at(30));
		this.attribution.ended("l1", at(40));
		this.attribution.ended("l3", at(50));
		GpuAttribution.Attribution drained = this.attribution.drain(at(60));
		// acme: 10 s alone (0.5 x 10) + 20 s beside l2 (0.5 / 2 x 20) + 10 s alone (0.5 x
		// 10)
		// beta P2: 20 s beside l1 (0.5 / 2 x 20); beta P1: 30 s alone on b (0.25 x 30)
		assertThat(drained.gpuSeconds()).hasSize(3);
		assertThat(drained.gpuSeconds().get(key("acme", Tier.P0))).isCloseTo(15.0, within(1e-9));
		assertThat(drained.gpuSeconds().get(key("beta", Tier.P2))).isCloseTo(5.0, within(1e-9));
		assertThat(drained.gpuSeconds().get(key("beta", Tier.P1))).isCloseTo(7.5, within(1e-9));
		// a busy 40 s at half the GPU, b busy 30 s at a quarter: all of it attributed.
		assertThat(drained.nodeBusySeconds().get("n1")).isCloseTo(27.5, within(1e-9));
		assertThat(this.attribution.running()).isZero();
	}

	@Test
	void aPreemptedRequestRequeuedElsewhereIsChargedForBothSlots() {
		this.attribution.started("first", "a", "n1", 1.0, 0, "acme", Tier.P2, "llama", at(0));
		this.attribution.started("urgent", "a", "n1", 1.0, 0, "beta", Tier.P0, "llama", at(4));
		this.attribution.ended("first", at(6));
		this.attribution.started("second", "b", "n2", 0.5, 0, "acme", Tier.P2, "llama", at(6));
		this.attribution.ended("urgent", at(8));
		this.attribution.ended("second", at(16));
		GpuAttribution.Attribution drained = this.attribution.drain(at(16));
		// acme: 4 s alone + 2 s of two (1 / 2 x 2) on a, then 10 s at half a GPU on b
		assertThat(drained.gpuSeconds().get(key("acme", Tier.P2))).isCloseTo(4 + 1 + 5, within(1e-9));
		// beta: 2 s shared with acme + 2 s alone
		assertThat(drained.gpuSeconds().get(key("beta", Tier.P0))).isCloseTo(1 + 2, within(1e-9));
		assertThat(drained.nodeBusySeconds()).containsOnlyKeys("n1", "n2");
		assertThat(drained.nodeBusySeconds().get("n1")).isCloseTo(8.0, within(1e-9));
		assertThat(drained.nodeBusySeconds().get("n2")).isCloseTo(5.0, within(1e-9));
		// The same per endpoint, to be placed on the GPU its exporter names.
		assertThat(drained.endpointBusySeconds()).containsOnlyKeys("a", "b");
		assertThat(drained.endpointBusySeconds().get("a")).isCloseTo(8.0, within(1e-9));
		assertThat(drained.endpointBusySeconds().get("b")).isCloseTo(5.0, within(1e-9));
	}

	@Test
	void aDrainChargesRunningLeasesUpToItsTimeAndTheNextDrainTheRest() {
		this.attribution.started("l1", "a", "n1", 0.25, 0, "acme", Tier.P1, "llama", at(0));
		assertThat(this.attribution.drain(at(8)).gpuSeconds()).containsExactly(Map.entry(key("acme", Tier.P1), 2.0));
		this.attribution.ended("l1", at(12));
		assertThat(this.attribution.drain(at(20)).gpuSeconds()).containsExactly(Map.entry(key("acme", Tier.P1), 1.0));
		assertThat(this.attribution.drain(at(30)).gpuSeconds()).isEmpty();
	}

	@Test
	void leaseTimeAcrossMidnightIsSplitBetweenTheTwoDays() {
		long beforeMidnight = Instant.parse("2026-11-29T23:59:30Z").getEpochSecond() * 1_000_000_000L;
		this.attribution.started("l1", "a", "n1", 1.0, 0, "acme", Tier.P0, "llama", beforeMidnight);
		this.attribution.ended("l1", beforeMidnight + 90_000_000_000L);
		Map<GpuUsageKey, Double> drained = this.attribution.drain(beforeMidnight + 90_000_000_000L).gpuSeconds();
		assertThat(drained).containsOnly(Map.entry(new GpuUsageKey("acme", Tier.P0, "llama", DAY), 30.0),
				Map.entry(new GpuUsageKey("acme", Tier.P0, "llama", DAY.plusDays(1)), 60.0));
	}

	@Test
	void anEndpointIdleBetweenLeasesChargesNobodyForTheGap() {
		this.attribution.started("l1", "a", "n1", 1.0, 0, "acme", Tier.P0, "llama", at(0));
		this.attribution.ended("l1", at(1));
		this.attribution.started("l2", "a", "n1", 1.0, 0, "acme", Tier.P0, "llama", at(5));
		this.attribution.ended("l2", at(6));
		GpuAttribution.Attribution drained = this.attribution.drain(at(10));
		assertThat(drained.gpuSeconds().get(key("acme", Tier.P0))).isCloseTo(2.0, within(1e-9));
		assertThat(drained.nodeBusySeconds().get("n1")).isCloseTo(2.0, within(1e-9));
	}

	@Test
	void gpuTimeIsPricedAtItsNodesHourlyPriceAndUnpricedNodesCostNothing() {
		// $3.60 an hour is $0.001 a GPU-second.
		this.attribution.started("l1", "a", "n1", 0.5, 3.6, "acme", Tier.P0, "llama", at(0));
		this.attribution.started("l2", "a", "n1", 0.5, 3.6, "beta", Tier.P0, "llama", at(0));
		this.attribution.started("l3", "b", "n2", 1.0, 0, "beta", Tier.P1, "llama", at(0));
		GpuAttribution.Attribution drained = this.attribution.drain(at(100));
		// Each of l1 and l2: a quarter of a GPU for 100 s = 25 GPU-seconds = $0.025.
		assertThat(drained.cost()).containsOnlyKeys(key("acme", Tier.P0), key("beta", Tier.P0));
		assertThat(drained.cost().get(key("acme", Tier.P0))).isCloseTo(0.025, within(1e-12));
		assertThat(drained.cost().get(key("beta", Tier.P0))).isCloseTo(0.025, within(1e-12));
		assertThat(drained.gpuSeconds().get(key("beta", Tier.P1))).isCloseTo(100, within(1e-9));
	}

	@Test
	void aSecondEndOrAnUnknownLeaseChangesNothing() {
		this.attribution.started("l1", "a", "n1", 1.0, 0, "acme", Tier.P0, "llama", at(0));
		this.attribution.ended("l1", at(3));
		this.attribution.ended("l1", at(9));
		this.attribution.ended("never-started", at(9));
		assertThat(this.attribution.drain(at(10)).gpuSeconds()).containsExactly(Map.entry(key("acme", Tier.P0), 3.0));
	}

}
