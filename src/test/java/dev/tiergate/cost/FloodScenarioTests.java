package dev.tiergate.cost;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.tiergate.tier.ReservePlacement;
import dev.tiergate.tier.TierProperties;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link FloodScenario}: P0 under a P2 flood in the simulator.
 */
class FloodScenarioTests {

	/** Issue 12's test shortened: 1 minute after 30 s of warm-up. */
	private static FloodScenario.Settings shortRun(List<ReservePlacement> placements, List<Integer> borrow) {
		FloodScenario.Settings d = FloodScenario.Settings.defaults();
		return new FloodScenario.Settings(d.fleet(), TierProperties.DEFAULTS, placements, borrow,
				List.of(InferenceEngine.Policy.PRIORITY), d.p0PerSecond(), d.p0PromptTokens(), d.p0OutputTokens(),
				d.p2Clients(), d.p2Load(), d.p2PromptTokens(), d.p2OutputTokens(), Duration.ofSeconds(30),
				Duration.ofMinutes(1), 7);
	}

	@Test
	void theFloodFillsTheSlotsAndTheSameSeedGivesTheSameResult() {
		FloodScenario.Settings settings = shortRun(List.of(ReservePlacement.SLOTS), List.of(2));
		List<FloodScenario.Result> first = FloodScenario.run(settings);
		assertThat(FloodScenario.run(settings)).isEqualTo(first);
		FloodScenario.Result slots = first.get(0);
		assertThat(slots.slotUseP2Alone()).isGreaterThan(0.99);
		assertThat(slots.p0TtftFlood().p99()).isGreaterThan(slots.p0TtftAlone().p99());
		assertThat(slots.schedulerPreemptions()).isPositive();
	}

	@Test
	void p0EndpointsIsolateP0AndLeaveTheirSlotsIdleUnderTheFlood() {
		List<FloodScenario.Result> results = FloodScenario
			.run(shortRun(List.of(ReservePlacement.SLOTS, ReservePlacement.ENDPOINTS), List.of(0, 2)));
		assertThat(results).extracting(FloodScenario.Result::placement)
			.containsExactly(ReservePlacement.SLOTS, ReservePlacement.ENDPOINTS, ReservePlacement.ENDPOINTS);
		FloodScenario.Result slots = results.get(0);
		FloodScenario.Result alone = results.get(1);
		FloodScenario.Result twoGuests = results.get(2);
		// Alone on its endpoints, P0's TTFT does not move with the flood ...
		assertThat(alone.p0TtftP99Ratio()).isEqualTo(1.0);
		assertThat(twoGuests.p0TtftP99Ratio()).isLessThan(slots.p0TtftP99Ratio());
		// ... and the flood cannot use the slots P0 leaves idle there.
		assertThat(alone.slotUse()).isLessThan(twoGuests.slotUse());
		assertThat(twoGuests.slotUse()).isLessThan(slots.slotUse());
		assertThat(alone.schedulerPreemptions()).isZero();
	}

	@Test
	void theCommandPrintsOneLinePerRun() {
		java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
		java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
		int code = SimulateCommand.run(new String[] { "--scenario", "p0-flood", "--bogus" },
				new java.io.PrintStream(out), new java.io.PrintStream(err));
		assertThat(code).isEqualTo(2);
		assertThat(err.toString()).contains("--bogus");
	}

}
