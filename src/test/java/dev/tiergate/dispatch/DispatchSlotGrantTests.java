package dev.tiergate.dispatch;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

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

/**
 * Tests for {@link DispatchRuntime#shareSlots()}, {@link DispatchRuntime#grant} and
 * {@link DispatchRuntime#slotUse()}: what slot ownership across replicas relies on.
 */
class DispatchSlotGrantTests {

	private final MutableClock clock = new MutableClock(Instant.parse("2026-11-30T00:00:00Z"));

	private final InMemoryClusterView cluster = new InMemoryClusterView();

	private final Tiers tiers = new Tiers(TierProperties.DEFAULTS);

	private final DispatchRuntime runtime = new DispatchRuntime(
			new EndpointRegistry(this.cluster, RoutingProperties.withSlots(1, Map.of())), this.tiers,
			new DispatchProperties(2, 1000, Duration.ofSeconds(1)), this.clock, new SimpleMeterRegistry());

	private final List<Admission> admissions = new ArrayList<>();

	private Admission.Running tryStart() throws Exception {
		Admission admission = this.runtime.admit("m", Tier.P0, "t", 1, 10);
		this.admissions.add(admission);
		return admission.awaitSlot(Duration.ZERO);
	}

	private String key() {
		return this.runtime.slotUse().get(0).endpoints().get(0).key();
	}

	@Test
	void theListenersHearOfSlotsAddedAndOfNothingElse() throws Exception {
		List<String> opened = new ArrayList<>();
		this.runtime.addLeaseListener(new LeaseListener() {

			@Override
			public void leaseEnded(Lease lease, long epochNanos) {
			}

			@Override
			public void roomOpened(String pool, long epochNanos) {
				opened.add(pool);
			}

		});
		// An endpoint appears; the same again changes nothing.
		this.cluster.upsert(InMemoryClusterView.pod("a", "m", 4));
		this.cluster.upsert(InMemoryClusterView.pod("a", "m", 4));
		assertThat(opened).containsExactly("m");
		// More slots are heard of; fewer, and an endpoint leaving, are not.
		this.cluster.upsert(InMemoryClusterView.pod("a", "m", 6));
		this.cluster.upsert(InMemoryClusterView.pod("a", "m", 2));
		this.cluster.upsert(InMemoryClusterView.pod("b", "m", 2));
		this.cluster.remove(InMemoryClusterView.pod("b", "m", 2));
		assertThat(opened).containsExactly("m", "m", "m");
		// Shared slots: none until granted, then a larger grant is heard of, a smaller
		// or an equal one is not.
		this.runtime.shareSlots();
		this.runtime.grant("m", Map.of(key(), 1));
		this.runtime.grant("m", Map.of(key(), 1));
		this.runtime.grant("m", Map.of(key(), 2));
		this.runtime.grant("m", Map.of(key(), 1));
		assertThat(opened).containsExactly("m", "m", "m", "m", "m");
		// A lease ending is a lease event, not this one.
		Admission.Running running = tryStart();
		assertThat(running).isNotNull();
		this.admissions.forEach(Admission::close);
		assertThat(opened).hasSize(5);
		// The tiers defined anew: a tier's share may have grown.
		this.tiers.update(Map.of(Tier.P0, new TierProperties.Override(0.0, null, null, null, null, null)));
		assertThat(opened).hasSize(6);
	}

	@Test
	void withoutSharingAnEndpointOffersEverySlot() throws Exception {
		this.cluster.upsert(InMemoryClusterView.pod("a", "m", 4));
		assertThat(this.runtime.slotsShared()).isFalse();
		assertThat(this.runtime.slotUse().get(0).endpoints()).singleElement()
			.satisfies((e) -> assertThat(e.granted()).isEqualTo(4));
		for (int i = 0; i < 4; i++) {
			assertThat(tryStart()).isNotNull();
		}
		assertThat(tryStart()).isNull();
	}

	@Test
	void sharedSlotsAreNoneUntilGrantedThenOnlyTheGrant() throws Exception {
		this.runtime.shareSlots();
		this.cluster.upsert(InMemoryClusterView.pod("a", "m", 4));
		assertThat(this.runtime.slotUse().get(0).endpoints().get(0).granted()).isZero();
		this.runtime.grant("m", Map.of(key(), 2));
		assertThat(tryStart()).isNotNull();
		assertThat(tryStart()).isNotNull();
		assertThat(tryStart()).isNull();
		SlotUse use = this.runtime.slotUse().get(0);
		assertThat(use.endpoints()).singleElement().satisfies((e) -> {
			assertThat(e.slots()).isEqualTo(4);
			assertThat(e.granted()).isEqualTo(2);
			assertThat(e.used()).isEqualTo(2);
		});
		assertThat(use.demand()).containsEntry(Tier.P0, 3).containsEntry(Tier.P2, 0);
		// A grant above the endpoint's slots gives its slots.
		this.runtime.grant("m", Map.of(key(), 9));
		assertThat(this.runtime.slotUse().get(0).endpoints().get(0).granted()).isEqualTo(4);
	}

	@Test
	void aGrantBelowTheLeasesStartsNothingUntilEnoughHaveEnded() throws Exception {
		this.runtime.shareSlots();
		this.cluster.upsert(InMemoryClusterView.pod("a", "m", 4));
		this.runtime.grant("m", Map.of(key(), 3));
		for (int i = 0; i < 3; i++) {
			assertThat(tryStart()).isNotNull();
		}
		this.runtime.grant("m", Map.of(key(), 1));
		Admission waiting = this.runtime.admit("m", Tier.P0, "t", 1, 10);
		assertThat(waiting.awaitSlot(Duration.ZERO)).isNull();
		this.admissions.get(0).close();
		this.admissions.get(1).close();
		// Still one lease: the grant of 1 is used.
		assertThat(this.runtime.slotUse().get(0).endpoints().get(0).used()).isEqualTo(1);
		assertThat(waiting.awaitSlot(Duration.ZERO)).isNull();
		this.admissions.get(2).close();
		assertThat(waiting.awaitSlot(Duration.ZERO)).isNotNull();
		waiting.close();
	}

}
