package dev.tiergate.spill;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.core.StringRedisTemplate;

import dev.tiergate.LocalRedis;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link SpillBudget}, on the local Redis, each in a month of its own far in
 * the future so that runs never share counters.
 */
class SpillBudgetTests {

	private final StringRedisTemplate redis = LocalRedis.template();

	private final Instant month = Instant.parse("2400-01-15T00:00:00Z")
		.plus(java.time.Duration.ofDays(31L * new Random().nextInt(12 * 500)));

	private final Clock clock = Clock.fixed(this.month, ZoneOffset.UTC);

	@AfterEach
	void deleteCounters() {
		String pattern = "tg:spill:{spend}:" + java.time.YearMonth.from(this.month.atZone(ZoneOffset.UTC)) + ":*";
		this.redis.delete(this.redis.keys(pattern));
	}

	private SpillBudget budget(double globalCap, Double tenantCap, Map<String, Double> tenantCaps) {
		SpillProperties properties = new SpillProperties(Map.of(), Map.of(), globalCap, tenantCap, tenantCaps);
		// Run-time caps in a key of this test's month, deleted with its counters.
		return new SpillBudget(this.redis, properties, this.clock,
				"tg:spill:{spend}:" + java.time.YearMonth.from(this.month.atZone(ZoneOffset.UTC)) + ":caps");
	}

	@Test
	void capsChangedAtRunTimeSurviveARestartAndBindEveryReplica() {
		SpillBudget first = budget(1.00, null, Map.of());
		assertThat(first.caps()).isEqualTo(new SpillCaps(1.00, null, Map.of()));
		first.replaceCaps(new SpillCaps(0.10, 0.05, Map.of("big", 0.08)));
		// Another replica, or this one after a restart, with other start-up caps.
		SpillBudget restarted = budget(500, null, Map.of());
		assertThat(restarted.caps()).isEqualTo(new SpillCaps(0.10, 0.05, Map.of("big", 0.08)));
		assertThat(restarted.reserve("small", 0.05)).isInstanceOf(SpillBudget.Reserved.class);
		assertThat(restarted.reserve("small", 0.01)).isEqualTo(new SpillBudget.Refused(SpillBudget.Scope.TENANT));
		assertThat(first.reserve("big", 0.06)).isEqualTo(new SpillBudget.Refused(SpillBudget.Scope.GLOBAL));
		assertThat(first.reserve("big", 0.05)).isInstanceOf(SpillBudget.Reserved.class);
		assertThat(restarted.globalSpend()).isEqualTo(0.10);
		// No tenant default any more: only the global cap and the named tenants' own.
		restarted.replaceCaps(new SpillCaps(1.00, null, Map.of()));
		assertThat(first.caps()).isEqualTo(new SpillCaps(1.00, null, Map.of()));
		assertThat(first.reserve("small", 0.50)).isInstanceOf(SpillBudget.Reserved.class);
	}

	@Test
	void globalCapIsExactUnder64RacingRequests() throws Exception {
		SpillBudget budget = budget(1.00, null, Map.of());
		List<SpillBudget.Reservation> outcomes = race(budget, 64, (i) -> "tenant-" + (i % 4), 0.05);
		assertThat(outcomes).filteredOn(SpillBudget.Reserved.class::isInstance).hasSize(20);
		assertThat(outcomes).filteredOn(SpillBudget.Refused.class::isInstance)
			.allMatch((refused) -> ((SpillBudget.Refused) refused).scope() == SpillBudget.Scope.GLOBAL);
		assertThat(budget.globalSpend()).isEqualTo(1.00);
	}

	@Test
	void tenantCapIsExactUnder64RacingRequestsAndLeavesOthersAlone() throws Exception {
		SpillBudget budget = budget(100, 0.25, Map.of("big", 10.0));
		List<SpillBudget.Reservation> outcomes = race(budget, 64, (i) -> (i % 2 == 0) ? "small" : "big", 0.01);
		long reservedSmall = 0;
		long reservedBig = 0;
		for (int i = 0; i < outcomes.size(); i++) {
			if (outcomes.get(i) instanceof SpillBudget.Reserved reserved) {
				if (reserved.tenant().equals("small")) {
					reservedSmall++;
				}
				else {
					reservedBig++;
				}
			}
		}
		assertThat(reservedSmall).isEqualTo(25);
		assertThat(reservedBig).isEqualTo(32);
		assertThat(budget.tenantSpend("small")).isEqualTo(0.25);
		assertThat(budget.tenantSpend("big")).isEqualTo(0.32);
		assertThat(budget.globalSpend()).isEqualTo(0.57);
	}

	@Test
	void settlingRefundsTheUnusedReservationAndMakesRoomAgain() {
		SpillBudget budget = budget(0.10, null, Map.of());
		SpillBudget.Reserved first = (SpillBudget.Reserved) budget.reserve("a", 0.10);
		assertThat(budget.reserve("b", 0.01)).isEqualTo(new SpillBudget.Refused(SpillBudget.Scope.GLOBAL));
		budget.settle(first, 0.004);
		assertThat(budget.tenantSpend("a")).isEqualTo(0.004);
		assertThat(budget.globalSpend()).isEqualTo(0.004);
		assertThat(budget.reserve("b", 0.09)).isInstanceOf(SpillBudget.Reserved.class);
		assertThat(budget.tenantSpend("b")).isEqualTo(0.09);
	}

	@Test
	void aTenantsSpendIsItsOwn() {
		SpillBudget budget = budget(10, 1.0, Map.of());
		budget.settle((SpillBudget.Reserved) budget.reserve("a", 1.0), 1.0);
		assertThat(budget.reserve("a", 0.000001)).isEqualTo(new SpillBudget.Refused(SpillBudget.Scope.TENANT));
		assertThat(budget.reserve("b", 1.0)).isInstanceOf(SpillBudget.Reserved.class);
		assertThat(budget.tenantSpend("a")).isEqualTo(1.0);
		assertThat(budget.tenantSpend("b")).isEqualTo(1.0);
	}

	private static List<SpillBudget.Reservation> race(SpillBudget budget, int requests,
			java.util.function.IntFunction<String> tenant, double dollars) throws Exception {
		CountDownLatch start = new CountDownLatch(1);
		List<Future<SpillBudget.Reservation>> futures = new ArrayList<>();
		try (ExecutorService threads = Executors.newFixedThreadPool(requests)) {
			for (int i = 0; i < requests; i++) {
				String who = tenant.apply(i);
				futures.add(threads.submit(() -> {
					start.await();
					return budget.reserve(who, dollars);
				}));
			}
			start.countDown();
			List<SpillBudget.Reservation> outcomes = new ArrayList<>();
			for (Future<SpillBudget.Reservation> future : futures) {
				outcomes.add(future.get());
			}
			return outcomes;
		}
	}

}
