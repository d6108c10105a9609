package dev.tiergate.dispatch;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

import dev.tiergate.routing.BalancingPolicies;
import dev.tiergate.routing.Endpoint;
import dev.tiergate.routing.EndpointRegistry;
import dev.tiergate.tier.Tier;
import dev.tiergate.tier.Tiers;
import dev.tiergate.tier.TierDefinition;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * The live runtime around the schedulers: one {@link PoolScheduler} per model, fed with
 * real events (requests, endpoints from the registry, tier changes, time) under a short
 * per-pool lock, and its decisions carried out: waiting threads are woken, preempted
 * upstream calls aborted (after the lock is released), endpoints' in-flight counts kept.
 */
public class DispatchRuntime implements EndpointRegistry.EndpointListener {

	/** Queue-wait histogram buckets, around the tiers' objectives. */
	static final Duration[] WAIT_BUCKETS = { Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25),
			Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(200), Duration.ofMillis(500),
			Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(10),
			Duration.ofSeconds(30) };

	private final Map<String, PoolRuntime> pools = new ConcurrentHashMap<>();

	private final Tiers tiers;

	private final DispatchProperties properties;

	private final Clock clock;

	private final MeterRegistry meters;

	private final WaitHistory waits = new WaitHistory();

	private final BalancingPolicies policies;

	private final List<LeaseListener> leaseListeners = new CopyOnWriteArrayList<>();

	/**
	 * Whether endpoints offer this replica only the slots granted to it (several replicas
	 * share the fleet) rather than all their slots (one replica, the default).
	 */
	private volatile boolean slotsShared;

	public DispatchRuntime(EndpointRegistry registry, Tiers tiers, DispatchProperties properties, Clock clock,
			MeterRegistry meters) {
		this(registry, tiers, properties, clock, meters, null);
	}

	/**
	 * The runtime.
	 * @param registry the endpoints
	 * @param tiers the tier definitions
	 * @param properties dispatch settings
	 * @param clock the clock of every event
	 * @param meters metrics
	 * @param policies each model's balancing policy, or {@code null} for
	 * least-outstanding everywhere
	 */
	public DispatchRuntime(EndpointRegistry registry, Tiers tiers, DispatchProperties properties, Clock clock,
			MeterRegistry meters, BalancingPolicies policies) {
		this.policies = policies;
		this.tiers = tiers;
		this.properties = properties;
		this.clock = clock;
		this.meters = meters;
		tiers.onChange((definitions) -> this.pools.values().forEach((pool) -> pool.configure(definitions)));
		registry.addListener(this);
	}

	/**
	 * Registers a listener for every lease start and end, from now on.
	 * @param listener the listener (called under a pool's lock: it only records)
	 */
	public void addLeaseListener(LeaseListener listener) {
		this.leaseListeners.add(listener);
	}

	private void leaseEnded(Lease lease) {
		((Endpoint) lease.endpointAttachment()).leaseEnded();
		if (!this.leaseListeners.isEmpty()) {
			long now = now();
			this.leaseListeners.forEach((listener) -> listener.leaseEnded(lease, now));
		}
	}

	private void roomOpened(String pool) {
		if (!this.leaseListeners.isEmpty()) {
			long now = now();
			this.leaseListeners.forEach((listener) -> listener.roomOpened(pool, now));
		}
	}

	long now() {
		Instant instant = this.clock.instant();
		return instant.getEpochSecond() * 1_000_000_000L + instant.getNano();
	}

	private volatile boolean closing;

	private PoolRuntime pool(String model) {
		return this.pools.computeIfAbsent(model, PoolRuntime::new);
	}

	/**
	 * Puts a request in line for a slot of its model's pool. The calling thread then
	 * waits with {@link Admission#awaitSlot()} and must close the admission when the
	 * request ends.
	 * @param model the model (pool)
	 * @param tier the tier
	 * @param tenant tenant id
	 * @param weight the tenant's weight
	 * @param cost tokens (prompt estimate + max_tokens)
	 * @return the admission
	 */
	public Admission admit(String model, Tier tier, String tenant, int weight, long cost) {
		return admit(model, tier, tenant, weight, cost, 0);
	}

	/**
	 * Puts a request in line for a slot of its model's pool, with an affinity key for the
	 * pool's balancing policy.
	 * @param model the model (pool)
	 * @param tier the tier
	 * @param tenant tenant id
	 * @param weight the tenant's weight
	 * @param cost tokens (prompt estimate + max_tokens)
	 * @param affinityKey hash of the prompt prefix or session, 0 for none
	 * @return the admission
	 */
	public Admission admit(String model, Tier tier, String tenant, int weight, long cost, long affinityKey) {
		PoolRuntime pool = pool(model);
		Ticket ticket = new Ticket(tenant, tier, cost, weight, affinityKey);
		Admission admission = new Admission(pool, ticket);
		pool.submit(ticket);
		if (this.closing) {
			// Admitted while the replica shuts down: a free slot is taken, a wait is not.
			pool.run(() -> pool.scheduler.rejectQueued(RejectReason.SHUTTING_DOWN));
		}
		return admission;
	}

	/**
	 * The replica is shutting down: every request still waiting for a slot, now or from
	 * now on, is rejected with {@link RejectReason#SHUTTING_DOWN} (503 with
	 * {@code Retry-After}); running requests keep their slots and finish.
	 */
	public void rejectWaiting() {
		this.closing = true;
		this.pools.values().forEach((pool) -> pool.run(() -> pool.scheduler.rejectQueued(RejectReason.SHUTTING_DOWN)));
	}

	/**
	 * Whether {@link #rejectWaiting()} was called.
	 * @return {@code true} while the replica shuts down
	 */
	public boolean closing() {
		return this.closing;
	}

	/**
	 * Marks that a request is about to send its first bytes to its client; from then on
	 * preemption ends it rather than requeueing it.
	 * @param running the request's slot
	 * @return {@code false} if the slot was taken away meanwhile: send nothing
	 */
	public boolean markSent(Admission.Running running) {
		return pool(((Endpoint) running.endpoint()).model()).markSent(running);
	}

	/**
	 * How many more requests of a tier a model's pool would start at once: its free and
	 * borrowable slots for that tier (see {@link PoolScheduler#room(Tier)}). Allocates
	 * nothing; batch workers ask it before they take items.
	 * @param model the model (pool)
	 * @param tier the tier
	 * @return requests that would start at once; 0 for a pool never seen
	 */
	public int room(String model, Tier tier) {
		PoolRuntime pool = this.pools.get(model);
		return (pool != null) ? pool.room(tier) : 0;
	}

	/**
	 * Slots of a model's pool held by running requests now.
	 * @param model the model (pool)
	 * @return leases held; 0 for a pool never seen
	 */
	public int inUse(String model) {
		PoolRuntime pool = this.pools.get(model);
		return (pool != null) ? pool.inUse() : 0;
	}

	/**
	 * Whether a model has ever had endpoints (its pool exists, possibly with none left).
	 * @param model the model
	 * @return {@code true} if known
	 */
	public boolean knows(String model) {
		return this.pools.containsKey(model);
	}

	/**
	 * From now on, each endpoint offers this replica only the slots granted to it with
	 * {@link #grant(String, Map)} (none until then), because other replicas share them.
	 * Leases already running keep their slots; a grant below an endpoint's leases only
	 * stops new ones there until enough have ended.
	 */
	public void shareSlots() {
		this.slotsShared = true;
		this.pools.values().forEach(PoolRuntime::applyGrants);
	}

	/**
	 * Whether slots are shared with other replicas (see {@link #shareSlots()}).
	 * @return {@code true} once shared
	 */
	public boolean slotsShared() {
		return this.slotsShared;
	}

	/**
	 * Sets the slots this replica may use on a pool's endpoints; endpoints left out get
	 * none. Applies only once slots are shared.
	 * @param model the pool
	 * @param grants slots per endpoint key
	 */
	public void grant(String model, Map<String, Integer> grants) {
		pool(model).grant(grants);
	}

	/**
	 * Every pool's demand and slot use, for slot ownership across replicas.
	 * @return one entry per pool, sorted by pool
	 */
	public List<SlotUse> slotUse() {
		return this.pools.values()
			.stream()
			.map((pool) -> pool.locked(pool::slotUse))
			.sorted(Comparator.comparing(SlotUse::pool))
			.toList();
	}

	@Override
	public void upserted(Endpoint endpoint) {
		pool(endpoint.model()).upsert(endpoint);
	}

	@Override
	public void removed(Endpoint endpoint) {
		pool(endpoint.model()).remove(endpoint);
	}

	/**
	 * Every pool's state.
	 * @return snapshots sorted by pool
	 */
	public List<PoolSnapshot> snapshots() {
		return this.pools.values()
			.stream()
			.map(PoolRuntime::snapshot)
			.sorted(Comparator.comparing(PoolSnapshot::pool))
			.toList();
	}

	/**
	 * Requests in flight on every endpoint, by tier, in one pass over each pool's leases.
	 * @return per endpoint key, counts per tier (endpoints without leases are absent)
	 */
	public Map<String, Map<Tier, Integer>> inFlightByEndpointAndTier() {
		Map<String, Map<Tier, Integer>> result = new java.util.HashMap<>();
		for (PoolRuntime pool : this.pools.values()) {
			pool.locked(() -> {
				pool.scheduler.countLeases(result);
				return null;
			});
		}
		return result;
	}

	/**
	 * Turns away, in every pool, the requests that waited past their tier's deadline.
	 * Waiting threads do this themselves at their own deadline; this is for a clock that
	 * jumps (tests) and for housekeeping.
	 */
	public void expireWaiting() {
		this.pools.values().forEach(PoolRuntime::tick);
	}

	/**
	 * Recent queue waits.
	 * @return the wait history
	 */
	public WaitHistory waits() {
		return this.waits;
	}

	/**
	 * One pool's scheduler, its lock and its metrics.
	 */
	final class PoolRuntime implements SchedulerDecisions {

		private final String model;

		private final ReentrantLock lock = new ReentrantLock();

		final PoolScheduler scheduler;

		private final List<Admission.Running> toAbort = new ArrayList<>();

		/**
		 * Leases granted in an event that also preempted: offered only once the preempted
		 * calls have been aborted, so that the request taking a slot is never sent to an
		 * engine before the request it displaced has been told to stop.
		 */
		private final List<Admission.Running> heldBack = new ArrayList<>();

		private final Timer abortTimer;

		/** The pool's endpoints as the registry last reported them, by key. */
		private final Map<String, Endpoint> endpoints = new java.util.HashMap<>();

		/** Slots granted to this replica per endpoint key, once slots are shared. */
		private Map<String, Integer> grants = Map.of();

		/** The slots last given to the scheduler per endpoint key. */
		private final Map<String, Integer> applied = new java.util.HashMap<>();

		private final Timer[] waitTimers = new Timer[Tier.values().length];

		private final Counter[] preemptions = new Counter[Tier.values().length];

		/** This pool's own wait recorder: recording takes no lock shared with others. */
		private final WaitHistory.PoolWaits waits;

		private final Counter[][] rejections = new Counter[Tier.values().length][RejectReason.values().length];

		PoolRuntime(String model) {
			this.model = model;
			this.waits = DispatchRuntime.this.waits.pool(model);
			BalancingPolicies policies = DispatchRuntime.this.policies;
			this.scheduler = new PoolScheduler(model, DispatchRuntime.this.tiers.all(),
					DispatchRuntime.this.properties.preemptionBudget(),
					DispatchRuntime.this.properties.maxQueuedPerPool(), this,
					(policies != null) ? policies.create(model) : null);
			MeterRegistry meters = DispatchRuntime.this.meters;
			for (Tier tier : Tier.values()) {
				int t = tier.ordinal();
				this.waitTimers[t] = Timer.builder("tiergate.dispatch.queue.wait")
					.description("Time from arrival to a slot")
					.tag("pool", model)
					.tag("tier", tier.name())
					.serviceLevelObjectives(WAIT_BUCKETS)
					.register(meters);
				this.preemptions[t] = Counter.builder("tiergate.dispatch.preemptions")
					.description("Leases taken away for a more urgent request")
					.tag("pool", model)
					.tag("tier", tier.name())
					.register(meters);
				for (RejectReason reason : RejectReason.values()) {
					this.rejections[t][reason.ordinal()] = Counter.builder("tiergate.dispatch.rejections")
						.description("Requests turned away by the dispatcher")
						.tag("pool", model)
						.tag("tier", tier.name())
						.tag("reason", reason.code())
						.register(meters);
				}
				Gauge.builder("tiergate.dispatch.queue.depth", this, (p) -> p.scheduler.queued(tier))
					.description("Requests waiting for a slot")
					.tag("pool", model)
					.tag("tier", tier.name())
					.register(meters);
				Gauge.builder("tiergate.dispatch.inflight", this, (p) -> p.scheduler.inFlight(tier))
					.description("Requests holding a slot")
					.tag("pool", model)
					.tag("tier", tier.name())
					.register(meters);
			}
			this.abortTimer = Timer.builder("tiergate.dispatch.preemption.abort")
				.description("Time to abort the upstream calls of preempted requests, before their slots are handed on")
				.tag("pool", model)
				.register(meters);
			Gauge.builder("tiergate.slots", this, (p) -> p.locked(p.scheduler::used))
				.description("Slots by state")
				.tag("pool", model)
				.tag("state", "busy")
				.register(meters);
			Gauge.builder("tiergate.slots", this, (p) -> p.locked(p.scheduler::free))
				.description("Slots by state")
				.tag("pool", model)
				.tag("state", "idle")
				.register(meters);
			Gauge.builder("tiergate.slots", this, (p) -> p.locked(p.scheduler::borrowed))
				.description("Slots by state")
				.tag("pool", model)
				.tag("state", "borrowed")
				.register(meters);
		}

		<T> T locked(Supplier<T> action) {
			this.lock.lock();
			try {
				return action.get();
			}
			finally {
				this.lock.unlock();
			}
		}

		private void run(Runnable action) {
			List<Admission.Running> aborts;
			List<Admission.Running> offers;
			this.lock.lock();
			try {
				action.run();
				if (this.toAbort.isEmpty()) {
					return;
				}
				aborts = List.copyOf(this.toAbort);
				this.toAbort.clear();
				offers = List.copyOf(this.heldBack);
				this.heldBack.clear();
			}
			finally {
				this.lock.unlock();
			}
			// I/O outside the lock; the displaced calls are aborted before the leases
			// that displaced them are handed out.
			long started = System.nanoTime();
			aborts.forEach(Admission.Running::runAbort);
			this.abortTimer.record(System.nanoTime() - started, java.util.concurrent.TimeUnit.NANOSECONDS);
			if (offers.isEmpty()) {
				return;
			}
			this.lock.lock();
			try {
				for (Admission.Running running : offers) {
					Admission admission = (Admission) running.lease.ticket().attachment();
					// Unless taken away meanwhile (a newer lease is then offered
					// instead).
					if (admission.current == running && running.lease.active()) {
						admission.offer(running);
					}
				}
			}
			finally {
				this.lock.unlock();
			}
		}

		void submit(Ticket ticket) {
			run(() -> this.scheduler.submit(ticket, now()));
		}

		void end(Ticket ticket) {
			run(() -> {
				Lease lease = ticket.lease();
				this.scheduler.cancel(ticket, now());
				if (lease != null && !lease.active()) {
					leaseEnded(lease);
				}
			});
		}

		void retry(Lease lease) {
			run(() -> {
				if (this.scheduler.retryElsewhere(lease, now())) {
					leaseEnded(lease);
				}
			});
		}

		void tick() {
			run(() -> this.scheduler.tick(now()));
		}

		int room(Tier tier) {
			this.lock.lock();
			try {
				return this.scheduler.room(tier);
			}
			finally {
				this.lock.unlock();
			}
		}

		int inUse() {
			this.lock.lock();
			try {
				return this.scheduler.used();
			}
			finally {
				this.lock.unlock();
			}
		}

		/**
		 * Rejects the pool's tickets past their deadline.
		 * @param ticket a waiting request's ticket
		 * @return {@code true} when the ticket was rejected now (its decision is
		 * offered), {@code false} when it is not queued (dispatched: its lease is
		 * offered)
		 */
		boolean expire(Ticket ticket) {
			boolean[] rejected = new boolean[1];
			run(() -> {
				boolean queued = ticket.state() == Ticket.State.QUEUED;
				this.scheduler.tick(now());
				rejected[0] = queued && ticket.state() == Ticket.State.DONE;
			});
			return rejected[0];
		}

		boolean markSent(Admission.Running running) {
			return locked(() -> this.scheduler.markSent(running.lease));
		}

		long nanosUntilDeadline(Ticket ticket) {
			return ticket.deadlineNanos - now();
		}

		Duration retryAfter() {
			return DispatchRuntime.this.properties.retryAfter();
		}

		void configure(Map<Tier, TierDefinition> definitions) {
			run(() -> {
				this.scheduler.configure(definitions, now());
				// A tier's share may have grown.
				roomOpened(this.model);
			});
		}

		void upsert(Endpoint endpoint) {
			run(() -> {
				int before = this.scheduler.acceptingSlots();
				this.endpoints.put(endpoint.key(), endpoint);
				int slots = slotsFor(endpoint);
				this.applied.put(endpoint.key(), slots);
				this.scheduler.upsertEndpoint(endpoint.key(), slots, endpoint.accepting(), endpoint.node(), endpoint,
						now());
				slotsAdded(before);
			});
		}

		/** Under the lock: tells the listeners when the accepting slots grew. */
		private void slotsAdded(int acceptingBefore) {
			if (this.scheduler.acceptingSlots() > acceptingBefore) {
				roomOpened(this.model);
			}
		}

		void remove(Endpoint endpoint) {
			run(() -> {
				this.endpoints.remove(endpoint.key());
				this.applied.remove(endpoint.key());
				this.scheduler.removeEndpoint(endpoint.key(), now());
			});
		}

		/** The slots this replica may use on an endpoint. */
		private int slotsFor(Endpoint endpoint) {
			if (!DispatchRuntime.this.slotsShared) {
				return endpoint.slots();
			}
			return Math.max(0, Math.min(endpoint.slots(), this.grants.getOrDefault(endpoint.key(), 0)));
		}

		void grant(Map<String, Integer> grants) {
			Map<String, Integer> copy = Map.copyOf(grants);
			run(() -> {
				this.grants = copy;
				reapply();
			});
		}

		void applyGrants() {
			run(this::reapply);
		}

		/** Gives the scheduler each endpoint's slots again where they changed. */
		private void reapply() {
			int accepting = this.scheduler.acceptingSlots();
			long now = now();
			for (Endpoint endpoint : this.endpoints.values()) {
				int slots = slotsFor(endpoint);
				Integer before = this.applied.put(endpoint.key(), slots);
				if (before == null || before != slots) {
					this.scheduler.upsertEndpoint(endpoint.key(), slots, endpoint.accepting(), endpoint.node(),
							endpoint, now);
				}
			}
			slotsAdded(accepting);
		}

		/** Under the lock. */
		SlotUse slotUse() {
			Map<Tier, Integer> demand = new java.util.EnumMap<>(Tier.class);
			for (Tier tier : Tier.values()) {
				demand.put(tier, this.scheduler.queued(tier) + this.scheduler.inFlight(tier));
			}
			Map<String, Map<Tier, Integer>> leases = new java.util.HashMap<>();
			this.scheduler.countLeases(leases);
			java.util.TreeMap<String, SlotUse.EndpointUse> uses = new java.util.TreeMap<>();
			for (Endpoint endpoint : this.endpoints.values()) {
				int used = leases.getOrDefault(endpoint.key(), Map.of())
					.values()
					.stream()
					.mapToInt(Integer::intValue)
					.sum();
				uses.put(endpoint.key(), new SlotUse.EndpointUse(endpoint.key(),
						endpoint.accepting() ? endpoint.slots() : 0, slotsFor(endpoint), used));
			}
			// Endpoints gone from the registry whose leases still run.
			leases.forEach((key, perTier) -> uses.computeIfAbsent(key, (k) -> new SlotUse.EndpointUse(k, 0, 0,
					perTier.values().stream().mapToInt(Integer::intValue).sum())));
			return new SlotUse(this.model, demand, List.copyOf(uses.values()));
		}

		PoolSnapshot snapshot() {
			return locked(() -> this.scheduler.snapshot(now()));
		}

		@Override
		public void dispatched(Ticket ticket, Lease lease) {
			((Endpoint) lease.endpointAttachment()).leaseStarted();
			DispatchRuntime.this.leaseListeners.forEach((listener) -> listener.leaseStarted(lease, lease.startNanos()));
			long waitNanos = Math.max(0, lease.startNanos() - ticket.arrivalNanos());
			if (!ticket.requeued) {
				this.waitTimers[ticket.tier().ordinal()].record(Duration.ofNanos(waitNanos));
				this.waits.record(ticket.tier(), lease.startNanos() / 1_000_000, waitNanos);
			}
			Admission admission = (Admission) ticket.attachment();
			// This slot's wait: since the ticket last joined the queue (not the earlier
			// attempts' run time, when it was requeued or retried).
			Admission.Running running = new Admission.Running(lease,
					Duration.ofNanos(Math.max(0, lease.startNanos() - ticket.queuedNanos())));
			admission.current = running;
			if (this.toAbort.isEmpty()) {
				admission.offer(running);
			}
			else {
				this.heldBack.add(running);
			}
		}

		@Override
		public void preempted(Lease lease, boolean requeued) {
			leaseEnded(lease);
			this.preemptions[lease.ticket().tier().ordinal()].increment();
			Admission admission = (Admission) lease.ticket().attachment();
			Admission.Running running = admission.current;
			if (running != null && running.lease == lease) {
				running.preempt(requeued);
				this.toAbort.add(running);
			}
		}

		@Override
		public void rejected(Ticket ticket, RejectReason reason) {
			this.rejections[ticket.tier().ordinal()][reason.ordinal()].increment();
			((Admission) ticket.attachment()).offer(reason);
		}

	}

}
