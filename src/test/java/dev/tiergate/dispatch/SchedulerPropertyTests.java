package dev.tiergate.dispatch;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import dev.tiergate.tier.Tier;
import dev.tiergate.tier.TierDefinition;
import dev.tiergate.tier.TierProperties;

/**
 * Property tests for {@link PoolScheduler}: many random event sequences from fixed seeds,
 * with the invariants checked after every step by an oracle written independently of the
 * scheduler's own bookkeeping.
 */
class SchedulerPropertyTests {

	private static final int SEEDS = Integer.getInteger("tiergate.propertySeeds", 300);

	private static final int STEPS = 1_500;

	private static final long MS = 1_000_000L;

	@Test
	void invariantsHoldOverRandomEventSequences() {
		for (long seed = 1; seed <= SEEDS; seed++) {
			try {
				new Run(seed).play();
			}
			catch (AssertionError ex) {
				throw new AssertionError("seed " + seed + ": " + ex.getMessage(), ex);
			}
		}
	}

	@Test
	void invariantsHoldWithP0OnItsOwnEndpoints() {
		for (long seed = 1; seed <= SEEDS; seed++) {
			try {
				new Run(seed, true).play();
			}
			catch (AssertionError ex) {
				throw new AssertionError("seed " + seed + ": " + ex.getMessage(), ex);
			}
		}
	}

	@Test
	void tenantsShareATierByWeight() {
		RecordingDecisions decisions = new RecordingDecisions();
		PoolScheduler scheduler = new PoolScheduler("m", TierProperties.DEFAULTS, 2, 1_000_000, decisions);
		scheduler.upsertEndpoint("e", 4, true, null, 0);
		Random random = new Random(7);
		Map<String, Integer> weights = Map.of("a", 1, "b", 2, "c", 3, "d", 4);
		List<Lease> running = new ArrayList<>();
		// Keep every tenant backlogged, finish leases one by one, count tokens dispatched
		// per tenant.
		for (String tenant : weights.keySet()) {
			for (int i = 0; i < 400; i++) {
				scheduler.submit(new Ticket(tenant, Tier.P2, 500 + random.nextInt(1500), weights.get(tenant)), 0);
			}
		}
		Map<String, Long> tokens = new HashMap<>();
		decisions.take().forEach((d) -> running.add(d.lease()));
		for (int i = 0; i < 600; i++) {
			Lease lease = running.remove(random.nextInt(running.size()));
			scheduler.finish(lease, 0);
			for (RecordingDecisions.Decision d : decisions.take()) {
				running.add(d.lease());
				tokens.merge(d.ticket().tenant(), d.ticket().cost(), Long::sum);
			}
		}
		long total = tokens.values().stream().mapToLong(Long::longValue).sum();
		for (var entry : weights.entrySet()) {
			double share = tokens.get(entry.getKey()) / (double) total;
			double expected = entry.getValue() / 10.0;
			assertThat(share).as("tenant %s token share", entry.getKey())
				.isCloseTo(expected, org.assertj.core.data.Offset.offset(0.03));
		}
	}

	/** One random run. */
	private static final class Run implements SchedulerDecisions {

		private final Random random;

		private final Map<Tier, TierDefinition> tiers = new EnumMap<>(TierProperties.DEFAULTS);

		private final PoolScheduler scheduler;

		private final int budget;

		private long now;

		private final List<Ticket> tickets = new ArrayList<>();

		private final List<Lease> active = new ArrayList<>();

		private final Map<Ticket, Integer> endings = new IdentityHashMap<>();

		private final Map<Lease, Integer> releases = new IdentityHashMap<>();

		private final Map<String, int[]> endpoints = new HashMap<>();

		private int endpointSeq;

		private final boolean onEndpoints;

		/** Leases dispatched onto an endpoint of P0's while P0 owned it, not P0's. */
		private final Map<Lease, String> guests = new IdentityHashMap<>();

		Run(long seed) {
			this(seed, false);
		}

		Run(long seed, boolean onEndpoints) {
			this.onEndpoints = onEndpoints;
			this.random = new Random(seed);
			this.budget = this.random.nextInt(3);
			if (this.random.nextBoolean()) {
				// Sometimes P1 may preempt too, and reserves differ.
				this.tiers.put(Tier.P0,
						def(Tier.P0, 0.1 + this.random.nextInt(5) / 10.0, Set.of(Tier.P1, Tier.P2), false));
				this.tiers.put(Tier.P1,
						def(Tier.P1, this.random.nextInt(3) / 10.0, Set.of(Tier.P2), this.random.nextBoolean()));
			}
			if (onEndpoints) {
				this.tiers.put(Tier.P0, this.tiers.get(Tier.P0)
					.withPlacement(dev.tiergate.tier.ReservePlacement.ENDPOINTS, this.random.nextInt(4)));
			}
			this.scheduler = new PoolScheduler("pool", this.tiers, this.budget, 5 + this.random.nextInt(60), this);
		}

		private TierDefinition def(Tier tier, double share, Set<Tier> mayPreempt, boolean borrow) {
			TierDefinition base = TierProperties.DEFAULTS.get(tier);
			return new TierDefinition(share, 2 + this.random.nextInt(40),
					Duration.ofMillis(50 + this.random.nextInt(500)), mayPreempt, borrow, base.priorityClass());
		}

		final java.util.ArrayDeque<String> log = new java.util.ArrayDeque<>();

		void log(String line) {
			this.log.addLast(line);
			if (this.log.size() > 25) {
				this.log.removeFirst();
			}
		}

		void play() {
			int initial = 1 + this.random.nextInt(6);
			for (int i = 0; i < initial; i++) {
				addEndpoint();
			}
			for (int step = 0; step < STEPS; step++) {
				int action = this.random.nextInt(100);
				log("action " + action);
				if (action < 45) {
					submit();
				}
				else if (action < 70) {
					finishOne();
				}
				else if (action < 75) {
					cancelOne();
				}
				else if (action < 82) {
					markSentOne();
				}
				else if (action < 90) {
					this.now += (1 + this.random.nextInt(100)) * MS;
					this.scheduler.tick(this.now);
				}
				else if (action < 94) {
					changeEndpoint();
				}
				else if (action < 97) {
					if (this.random.nextBoolean()) {
						addEndpoint();
					}
					else {
						removeEndpoint();
					}
				}
				else {
					TierDefinition p2 = this.tiers.get(Tier.P2);
					this.tiers.put(Tier.P2, new TierDefinition(p2.reservedShare(), p2.maxQueueDepth(),
							p2.maxQueueWait(), p2.mayPreempt(), !p2.borrow(), p2.priorityClass()));
					if (this.onEndpoints && this.random.nextInt(4) == 0) {
						TierDefinition p0 = this.tiers.get(Tier.P0);
						this.tiers.put(Tier.P0,
								p0.withPlacement((p0.reservePlacement() == dev.tiergate.tier.ReservePlacement.SLOTS)
										? dev.tiergate.tier.ReservePlacement.ENDPOINTS
										: dev.tiergate.tier.ReservePlacement.SLOTS, p0.borrowPerEndpoint()));
					}
					this.scheduler.configure(this.tiers, this.now);
				}
				try {
					check();
				}
				catch (AssertionError ex) {
					throw new AssertionError(ex.getMessage() + "\nlast events:\n" + String.join("\n", this.log), ex);
				}
			}
			// Drain: everything ends exactly once.
			while (!this.active.isEmpty()) {
				finish(this.active.get(0));
				check();
			}
			this.now += Duration.ofHours(1).toNanos();
			this.scheduler.tick(this.now);
			assertThat(this.active).isEmpty();
			for (Ticket ticket : this.tickets) {
				assertThat(this.endings.getOrDefault(ticket, 0)).as("endings of a ticket").isEqualTo(1);
			}
		}

		private void submit() {
			Tier tier = Tier.values()[this.random.nextInt(3)];
			Ticket ticket = new Ticket("t" + this.random.nextInt(4), tier, 1 + this.random.nextInt(5000),
					1 + this.random.nextInt(3));
			this.tickets.add(ticket);
			log("submit " + tier + " t" + System.identityHashCode(ticket));
			this.scheduler.submit(ticket, this.now);
		}

		private void finish(Lease lease) {
			// Book the end first: finishing dispatches waiting tickets at once.
			this.active.remove(lease);
			this.guests.remove(lease);
			released(lease);
			ended(lease.ticket());
			boolean freed = this.scheduler.finish(lease, this.now);
			assertThat(freed).as("finishing an active lease frees it").isTrue();
		}

		private void finishOne() {
			if (!this.active.isEmpty()) {
				finish(this.active.get(this.random.nextInt(this.active.size())));
			}
			// Finishing something already released is harmless.
			if (!this.releases.isEmpty() && this.random.nextInt(10) == 0) {
				Lease old = this.releases.keySet().iterator().next();
				assertThat(this.scheduler.finish(old, this.now)).isFalse();
			}
		}

		private void cancelOne() {
			List<Ticket> live = this.tickets.stream().filter((t) -> t.state() != Ticket.State.DONE).toList();
			if (live.isEmpty()) {
				return;
			}
			Ticket ticket = live.get(this.random.nextInt(live.size()));
			Lease lease = ticket.lease();
			if (lease != null) {
				this.active.remove(lease);
				this.guests.remove(lease);
				released(lease);
			}
			ended(ticket);
			this.scheduler.cancel(ticket, this.now);
		}

		private void markSentOne() {
			if (!this.active.isEmpty()) {
				Lease lease = this.active.get(this.random.nextInt(this.active.size()));
				assertThat(this.scheduler.markSent(lease)).isTrue();
			}
		}

		private void addEndpoint() {
			String id = "e" + this.endpointSeq++;
			int[] state = { 1 + this.random.nextInt(6), 1 };
			this.endpoints.put(id, state);
			this.scheduler.upsertEndpoint(id, state[0], true, "n" + this.random.nextInt(3), null, this.now);
		}

		private void removeEndpoint() {
			if (this.endpoints.isEmpty()) {
				return;
			}
			String id = List.copyOf(this.endpoints.keySet()).get(this.random.nextInt(this.endpoints.size()));
			this.endpoints.remove(id);
			this.scheduler.removeEndpoint(id, this.now);
		}

		private void changeEndpoint() {
			if (this.endpoints.isEmpty()) {
				return;
			}
			String id = List.copyOf(this.endpoints.keySet()).get(this.random.nextInt(this.endpoints.size()));
			int[] state = this.endpoints.get(id);
			state[0] = 1 + this.random.nextInt(6);
			state[1] = this.random.nextInt(4) == 0 ? 0 : 1;
			this.scheduler.upsertEndpoint(id, state[0], state[1] == 1, null, this.now);
		}

		private void released(Lease lease) {
			int count = this.releases.merge(lease, 1, Integer::sum);
			assertThat(count).as("a lease is released once").isEqualTo(1);
		}

		private void ended(Ticket ticket) {
			int count = this.endings.merge(ticket, 1, Integer::sum);
			assertThat(count).as("a ticket ends once").isEqualTo(1);
		}

		@Override
		public void dispatched(Ticket ticket, Lease lease) {
			log("  dispatched " + ticket.tier() + " lease " + lease.id() + " on " + lease.endpointId() + " borrowed="
					+ lease.borrowed());
			assertThat(this.endings.containsKey(ticket)).as("no dispatch after the end").isFalse();
			this.active.add(lease);
			int[] endpoint = this.endpoints.get(lease.endpointId());
			assertThat(endpoint).as("dispatched to a known endpoint").isNotNull();
			assertThat(endpoint[1]).as("dispatched to an accepting endpoint").isEqualTo(1);
			long onEndpoint = this.active.stream().filter((l) -> l.endpointId().equals(lease.endpointId())).count();
			assertThat(onEndpoint).as("an endpoint never takes more than its slots").isLessThanOrEqualTo(endpoint[0]);
			PoolSnapshot snapshot = this.scheduler.snapshot(this.now);
			if (this.onEndpoints) {
				if (ticket.tier() != Tier.P0 && this.scheduler.reservedEndpoints().contains(lease.endpointId())) {
					assertThat(lease.borrowed() && lease.preemptible()).as("a guest on P0's endpoint is preemptible")
						.isTrue();
					this.guests.put(lease, lease.endpointId());
					long there = this.guests.values().stream().filter(lease.endpointId()::equals).count();
					assertThat(there).as("guests on one of P0's endpoints")
						.isLessThanOrEqualTo(this.tiers.get(Tier.P0).borrowPerEndpoint());
				}
				return;
			}
			if (!lease.borrowed()) {
				// A non-borrowed lease lands in the tier's own reserve or in the
				// unreserved share, never beyond.
				PoolSnapshot.TierState tier = snapshot.tiers().get(ticket.tier());
				boolean inOwnReserve = tier.inFlight() - tier.borrowed() <= tier.reserved();
				boolean inShared = snapshot.sharedUsed() <= snapshot.unreserved();
				assertThat(inOwnReserve || inShared)
					.as("%s stays within its reserve and the unreserved share unless borrowing: %s", ticket.tier(),
							snapshot)
					.isTrue();
			}
			if (lease.borrowed()) {
				assertThat(lease.preemptible()).as("borrowed leases are preemptible").isTrue();
			}
		}

		@Override
		public void preempted(Lease lease, boolean requeued) {
			log("  preempted lease " + lease.id() + " requeued=" + requeued);
			assertThat(lease.preemptible()).as("only preemptible leases are preempted").isTrue();
			assertThat(requeued).isEqualTo(!lease.sent());
			this.active.remove(lease);
			this.guests.remove(lease);
			released(lease);
			if (!requeued) {
				ended(lease.ticket());
			}
		}

		@Override
		public void rejected(Ticket ticket, RejectReason reason) {
			log("  rejected " + ticket.tier() + " " + reason);
			ended(ticket);
		}

		private void check() {
			PoolSnapshot snapshot = this.scheduler.snapshot(this.now);
			assertThat(snapshot.used()).as("slots in use").isLessThanOrEqualTo(snapshot.capacity());
			assertThat(snapshot.used()).isEqualTo(this.active.size());
			assertThat(this.scheduler.leases()).hasSameSizeAs(this.active);
			PoolSnapshot.TierState p0 = snapshot.tiers().get(Tier.P0);
			if (this.onEndpoints) {
				if (p0.queued() > 0) {
					p0NeverWaitsBesideItsOwnEndpoints();
				}
				return;
			}
			if (p0.queued() > 0) {
				p0NeverWaitsWhileItCouldRun(snapshot, p0);
			}
		}

		private void p0NeverWaitsBesideItsOwnEndpoints() {
			for (String id : this.scheduler.reservedEndpoints()) {
				int[] endpoint = this.endpoints.get(id);
				if (endpoint == null || endpoint[1] == 0) {
					continue;
				}
				long onEndpoint = this.active.stream().filter((l) -> l.endpointId().equals(id)).count();
				if (onEndpoint < endpoint[0]) {
					fail("P0 waits while its endpoint " + id + " has a free slot");
				}
				boolean guestThere = this.guests.values().stream().anyMatch(id::equals);
				if (guestThere && onEndpoint <= endpoint[0]) {
					fail("P0 waits while a guest runs on its endpoint " + id);
				}
			}
		}

		private void p0NeverWaitsWhileItCouldRun(PoolSnapshot snapshot, PoolSnapshot.TierState p0) {
			int ownUsed = p0.inFlight() - p0.borrowed();
			boolean reserveShort = ownUsed < p0.reserved();
			boolean sharedRoom = snapshot.sharedUsed() < snapshot.unreserved();
			if (snapshot.free() > 0 && (reserveShort || sharedRoom)) {
				fail("P0 waits while a slot it may take is free: " + snapshot);
			}
			TierDefinition p0Definition = this.tiers.get(Tier.P0);
			for (Lease lease : this.scheduler.leases()) {
				Tier tier = lease.ticket().tier();
				// Preempting it helps only if a slot is then free to run on.
				int[] endpoint = this.endpoints.get(lease.endpointId());
				long onEndpoint = this.active.stream().filter((l) -> l.endpointId().equals(lease.endpointId())).count();
				boolean slotAfter = snapshot.free() > 0
						|| (endpoint != null && endpoint[1] == 1 && onEndpoint <= endpoint[0]);
				if (!slotAfter) {
					continue;
				}
				if (lease.borrowed() && reserveShort && tier != Tier.P0) {
					fail("P0 waits while a lease borrowed from its reserve runs: " + snapshot);
				}
				if (p0Definition.mayPreempt().contains(tier) && lease.preemptible()) {
					PoolSnapshot.TierState victimTier = snapshot.tiers().get(tier);
					int victimOwn = victimTier.inFlight() - victimTier.borrowed();
					boolean freesShared = !lease.borrowed() && victimOwn > victimTier.reserved();
					int sharedAfter = snapshot.sharedUsed() - (freesShared ? 1 : 0);
					if (reserveShort || sharedAfter < snapshot.unreserved()) {
						fail("P0 waits while it could preempt " + tier + " lease " + lease.id() + ": " + snapshot);
					}
				}
			}
		}

	}

}
