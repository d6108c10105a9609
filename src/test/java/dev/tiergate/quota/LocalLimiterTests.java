package dev.tiergate.quota;

import java.util.EnumSet;

import org.junit.jupiter.api.Test;

import dev.tiergate.problem.TiergateException;
import dev.tiergate.routing.MutableClock;
import dev.tiergate.tier.Tier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Tests for {@link LocalLimiter}.
 */
class LocalLimiterTests {

	private final MutableClock clock = new MutableClock(java.time.Instant.parse("2026-11-01T00:00:00Z"));

	private final LocalLimiter limiter = new LocalLimiter(this.clock);

	private final Tenant tenant = new Tenant("local", "Local", EnumSet.allOf(Tier.class), Tier.P0, 1,
			new Limits(null, 1000L, null, null));

	@Test
	void negativeTokensAreRefusedAndDoNotRaiseTheTokensLeft() {
		assertThatThrownBy(() -> this.limiter.admit(this.tenant, "r1", -1_000_000))
			.isInstanceOfSatisfying(TiergateException.class, (ex) -> assertThat(ex.status()).isEqualTo(400));
		assertThat(this.limiter.admit(this.tenant, "r2", 1000).admitted()).isTrue();
		assertThat(this.limiter.admit(this.tenant, "r3", 1).admitted()).isFalse();
	}

	@Test
	void aReservationThatWouldOverflowTheWindowIsRefusedNotWrapped() {
		assertThat(this.limiter.admit(this.tenant, "r1", 10).admitted()).isTrue();
		assertThat(this.limiter.admit(this.tenant, "r2", Long.MAX_VALUE).admitted()).isFalse();
		assertThat(this.limiter.admit(this.tenant, "r3", 990).admitted()).isTrue();
	}

	@Test
	void negativeActualUsageIsNotCredited() {
		assertThat(this.limiter.admit(this.tenant, "r1", 500).admitted()).isTrue();
		this.limiter.finish("local", "r1", -10_000);
		assertThat(this.limiter.admit(this.tenant, "r2", 1000).admitted()).isTrue();
		assertThat(this.limiter.admit(this.tenant, "r3", 1).admitted()).isFalse();
	}

}
