package dev.tiergate.dispatch;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import dev.tiergate.cluster.InMemoryClusterView;
import dev.tiergate.routing.EndpointRegistry;
import dev.tiergate.routing.MutableClock;
import dev.tiergate.routing.RoutingProperties;
import dev.tiergate.tier.Tier;
import dev.tiergate.tier.TierProperties;
import dev.tiergate.tier.Tiers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Tests for {@link DispatchRuntime#rejectWaiting()}: on shutdown the requests waiting for
 * a slot are answered at once with {@link RejectReason#SHUTTING_DOWN}, running ones keep
 * their slots, and a request admitted afterwards takes a free slot but never waits.
 */
class ShutdownDrainTests {

	private final MutableClock clock = new MutableClock(Instant.parse("2026-11-29T12:00:00Z"));

	private final InMemoryClusterView cluster = new InMemoryClusterView();

	private final DispatchRuntime runtime = new DispatchRuntime(
			new EndpointRegistry(this.cluster, RoutingProperties.withSlots(1, Map.of())),
			new Tiers(TierProperties.DEFAULTS), new DispatchProperties(2, 1000, Duration.ofSeconds(1)), this.clock,
			new SimpleMeterRegistry());

	@Test
	void waitingRequestsAreRejectedAndRunningOnesKeepTheirSlots() throws Exception {
		this.cluster.upsert(InMemoryClusterView.pod("a", "m", 1));
		try (Admission holder = this.runtime.admit("m", Tier.P1, "t", 1, 10)) {
			Admission.Running running = holder.awaitSlot();
			CompletableFuture<Object> waiter = CompletableFuture.supplyAsync(() -> {
				try (Admission waiting = this.runtime.admit("m", Tier.P1, "t", 1, 10)) {
					return waiting.awaitSlot();
				}
				catch (Admission.Rejected ex) {
					return ex.reason();
				}
				catch (InterruptedException ex) {
					return ex;
				}
			});
			await().atMost(Duration.ofSeconds(10)).until(() -> this.runtime.snapshots().get(0).queued() == 1);
			assertThat(this.runtime.closing()).isFalse();
			this.runtime.rejectWaiting();
			assertThat(waiter.get(10, TimeUnit.SECONDS)).isEqualTo(RejectReason.SHUTTING_DOWN);
			assertThat(this.runtime.closing()).isTrue();
			assertThat(this.runtime.markSent(running)).isTrue();
			assertThat(this.runtime.snapshots().get(0).queued()).isZero();

			// Admitted while shutting down with no slot free: rejected, not queued.
			try (Admission late = this.runtime.admit("m", Tier.P2, "t", 1, 10)) {
				assertThatThrownBy(late::awaitSlot).isInstanceOfSatisfying(Admission.Rejected.class,
						(ex) -> assertThat(ex.reason()).isEqualTo(RejectReason.SHUTTING_DOWN));
			}
		}
		// With the slot free again, a late request still runs.
		try (Admission late = this.runtime.admit("m", Tier.P1, "t", 1, 10)) {
			assertThat(late.awaitSlot()).isNotNull();
		}
	}

}
