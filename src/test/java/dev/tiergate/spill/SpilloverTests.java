package dev.tiergate.spill;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.tiergate.LocalRedis;
import dev.tiergate.cost.PriceSheets;
import dev.tiergate.tier.Tier;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link Spillover}: when a request may spill, and on what terms.
 */
class SpilloverTests {

	private static final SpillProperties.Upstream HOSTED = new SpillProperties.Upstream(
			URI.create("https://hosted.example"), "gpt-4o", "sk-secret-key", Duration.ofSeconds(2),
			Duration.ofSeconds(30), Duration.ofSeconds(30));

	private static Spillover spillover(Map<Tier, SpillProperties.TierSpill> tiers, double cap) {
		SpillProperties properties = new SpillProperties(Map.of("m", HOSTED), tiers, cap, null, Map.of());
		return new Spillover(properties, new PriceSheets(),
				new SpillBudget(LocalRedis.template(), properties, Clock.systemUTC()),
				new HostedClient(JsonMapper.builder().build()), new SpillMetrics(new SimpleMeterRegistry()));
	}

	@Test
	void p0SpillsAtOnceP1AfterTwoSecondsP2NeverByDefault() {
		Spillover spillover = spillover(Map.of(), 100);
		assertThat(spillover.plan("m", Tier.P0, "t", 10, 10)).get()
			.extracting(Spillover.Plan::spillAfter)
			.isEqualTo(Duration.ZERO);
		assertThat(spillover.plan("m", Tier.P1, "t", 10, 10)).get()
			.extracting(Spillover.Plan::spillAfter)
			.isEqualTo(Duration.ofSeconds(2));
		assertThat(spillover.plan("m", Tier.P2, "t", 10, 10)).isEmpty();
	}

	@Test
	void aTierSetToNeverDoesNotSpill() {
		Spillover spillover = spillover(Map.of(Tier.P0, new SpillProperties.TierSpill(SpillMode.NEVER, Duration.ZERO)),
				100);
		assertThat(spillover.plan("m", Tier.P0, "t", 10, 10)).isEmpty();
	}

	@Test
	void aModelWithoutHostedUpstreamOrWithoutCapDoesNotSpill() {
		assertThat(spillover(Map.of(), 100).plan("other", Tier.P0, "t", 10, 10)).isEmpty();
		// A cap of 0 (read by the reservation, in Redis) turns spill off.
		Spillover off = spillover(Map.of(), 0);
		assertThat(off.plan("m", Tier.P0, "t", 10, 10)).get()
			.satisfies((plan) -> assertThat(off.budget().reserve("t", plan.maxCost()))
				.isInstanceOf(SpillBudget.Disabled.class));
	}

	@Test
	void theReservationIsThePromptAndEveryTokenItMayGenerateAtTheHostedPrice() {
		// Default sheet: $2.50 per 1M input, $10.00 per 1M output.
		assertThat(spillover(Map.of(), 100).plan("m", Tier.P0, "t", 1000, 500)).get()
			.extracting(Spillover.Plan::maxCost)
			.isEqualTo(0.0075);
	}

	@Test
	void anUpstreamNeverShowsItsKey() {
		assertThat(HOSTED.toString()).doesNotContain("sk-secret-key").contains("gpt-4o");
	}

}
