package dev.tiergate.replicas;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

import dev.tiergate.dispatch.DispatchRuntime;
import dev.tiergate.dispatch.SlotUse;
import dev.tiergate.replica.ReplicaIdentity;
import dev.tiergate.replicas.internal.RedisSlotLedger;
import dev.tiergate.routing.Endpoint;
import dev.tiergate.routing.EndpointRegistry;
import dev.tiergate.tier.Tier;
import dev.tiergate.tier.TierDefinition;
import dev.tiergate.tier.Tiers;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * This replica's share of every endpoint's slots. A background thread, every
 * {@code sync-interval} and whenever an endpoint changes: samples the dispatcher's demand
 * and slot use (in memory), computes the division of every pool with
 * {@link SlotAllocation} from the last picture of the fleet, claims its own row through
 * the ledger (one Redis script call: heartbeat, demand, claims, the fleet back), and
 * hands the grants to the dispatcher. The request path never waits for any of it: the
 * dispatcher's scheduler only sees endpoints with fewer slots.
 * <p>
 * A replica that cannot reach Redis keeps its grants until {@code fence-after}, then
 * starts no new request (its heartbeat may be about to expire, and its slots to go to
 * others) until a sync succeeds again.
 */
public final class SlotOwnership implements SmartLifecycle, EndpointRegistry.EndpointListener {

	private static final Logger logger = LoggerFactory.getLogger(SlotOwnership.class);

	private static final JsonMapper json = JsonMapper.builder().build();

	private static final TypeReference<Map<String, Map<Tier, Integer>>> DEMAND = new TypeReference<>() {
	};

	private final DispatchRuntime runtime;

	private final RedisSlotLedger ledger;

	private final Tiers tiers;

	private final ReplicaIdentity identity;

	private final ReplicasProperties properties;

	private final Clock clock;

	private final MeterRegistry meters;

	private final ScheduledExecutorService executor;

	private final AtomicBoolean triggered = new AtomicBoolean();

	private final AtomicLong rounds = new AtomicLong();

	private final Map<String, Deque<long[]>> samples = new HashMap<>();

	private final Map<String, Integer> grantedByEndpoint = new HashMap<>();

	private final Map<String, Long> shortSince = new HashMap<>();

	private final Map<String, Integer> ownedByPool = new ConcurrentHashMap<>();

	private final Map<String, Integer> wantedByPool = new ConcurrentHashMap<>();

	private final Map<String, Counter> changes = new ConcurrentHashMap<>();

	private final Timer handover;

	private volatile FleetPicture picture;

	private volatile boolean running;

	private volatile boolean halted;

	private volatile boolean fenced;

	private volatile boolean heldItsShare;

	private long lastSuccessMillis;

	private volatile long startedMillis;

	/**
	 * The ownership of one replica.
	 * @param runtime the dispatcher
	 * @param registry the endpoints (changes trigger a sync)
	 * @param ledger the ledger in Redis
	 * @param tiers the tiers (reserved shares)
	 * @param identity this replica
	 * @param properties settings
	 * @param clock the clock
	 * @param meters metrics
	 */
	public SlotOwnership(DispatchRuntime runtime, EndpointRegistry registry, RedisSlotLedger ledger, Tiers tiers,
			ReplicaIdentity identity, ReplicasProperties properties, Clock clock, MeterRegistry meters) {
		this.runtime = runtime;
		this.ledger = ledger;
		this.tiers = tiers;
		this.identity = identity;
		this.properties = properties;
		this.clock = clock;
		this.meters = meters;
		this.executor = Executors.newSingleThreadScheduledExecutor(
				Thread.ofPlatform().daemon().name("slot-ownership-" + identity.name()).factory());
		this.handover = Timer.builder("tiergate.slot.handover")
			.description("Time from wanting more of an endpoint's slots to holding them (a slot moves to this replica"
					+ " only after its lease elsewhere ended)")
			.publishPercentileHistogram()
			.register(meters);
		Gauge.builder("tiergate.replicas", this, (o) -> {
			FleetPicture now = o.picture;
			return (now != null) ? now.replicas().size() : 1;
		}).description("Live replicas of this fleet, as this replica last saw them").register(meters);
		registry.addListener(this);
	}

	/**
	 * What this replica last learned of its fleet.
	 *
	 * @param replicas the live replicas, by name, with what they hold and their demand
	 * @param syncedAtMillis when (this replica's clock)
	 */
	public record FleetPicture(List<ReplicaState> replicas, long syncedAtMillis) {

	}

	/**
	 * One live replica.
	 *
	 * @param name its name
	 * @param heartbeatAgeMillis time since its last heartbeat, as Redis counts it
	 * @param held slots held per endpoint key
	 * @param demand per pool, its recent demand per tier
	 */
	public record ReplicaState(String name, long heartbeatAgeMillis, Map<String, Integer> held,
			Map<String, Map<Tier, Integer>> demand) {

	}

	/**
	 * The last picture of the fleet.
	 * @return the picture, or {@code null} before the first sync
	 */
	public FleetPicture picture() {
		return this.picture;
	}

	/**
	 * Sync rounds that reached Redis so far.
	 * @return rounds
	 */
	public long rounds() {
		return this.rounds.get();
	}

	/**
	 * Whether this replica has fenced itself (no sync for {@code fence-after}).
	 * @return {@code true} while fenced
	 */
	public boolean fenced() {
		return this.fenced;
	}

	/**
	 * What this replica waits for before it can serve, since it started: a replica
	 * joining a fleet owns no slot until the others have given up theirs (each when its
	 * leases there have ended), and until then it would answer every request 503
	 * {@code no_capacity}. Readiness waits for this (the {@code slotOwnership} health
	 * indicator), so that a Service sends a new replica nothing before it can start a
	 * request. Once it has held its share of every pool it stays {@code null}: slots that
	 * move with demand later, or a fenced replica, do not take it out of service. It
	 * waits at most {@code ready-within} after its start for the slots (the first sync is
	 * always waited for).
	 * @return {@code null} once it holds slots in every pool with slots (or was given
	 * none there, as with more replicas than slots) or waited {@code ready-within}, else
	 * what it waits for
	 */
	public String waitingFor() {
		if (this.heldItsShare) {
			return null;
		}
		if (this.rounds.get() == 0) {
			return "its first slot sync";
		}
		for (SlotUse use : this.runtime.slotUse()) {
			int slots = 0;
			int granted = 0;
			for (SlotUse.EndpointUse endpoint : use.endpoints()) {
				slots += endpoint.slots();
				granted += endpoint.granted();
			}
			if (slots == 0 || granted > 0) {
				continue;
			}
			Integer wanted = this.wantedByPool.get(use.pool());
			if (wanted == null || wanted > 0) {
				String waiting = "its share of pool " + use.pool() + " (" + slots
						+ " slots held by other replicas until their leases there end)";
				if (this.clock.millis() - this.startedMillis < this.properties.readyWithin().toMillis()) {
					return waiting;
				}
				logger.warn(
						"Ready without {} after tiergate.replicas.ready-within ({}): that pool's requests are "
								+ "answered 503 no_capacity here until a slot moves to this replica",
						waiting, this.properties.readyWithin());
				break;
			}
		}
		this.heldItsShare = true;
		return null;
	}

	/**
	 * Stops this replica's heartbeat and lets it start no new request, as if its process
	 * had died: its record expires in Redis after the heartbeat TTL and the others take
	 * its slots. For tests and the benchmark.
	 */
	public void halt() {
		this.halted = true;
		this.executor.shutdownNow();
		try {
			this.executor.awaitTermination(5, TimeUnit.SECONDS);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		this.runtime.slotUse().forEach((use) -> this.runtime.grant(use.pool(), Map.of()));
	}

	@Override
	public void start() {
		this.runtime.shareSlots();
		this.running = true;
		this.lastSuccessMillis = this.clock.millis();
		this.startedMillis = this.lastSuccessMillis;
		this.executor.execute(this::syncSafely);
		long every = Math.max(1, this.properties.syncInterval().toMillis());
		this.executor.scheduleWithFixedDelay(this::syncSafely, every, every, TimeUnit.MILLISECONDS);
	}

	@Override
	public void stop() {
		this.running = false;
		if (this.halted) {
			return;
		}
		this.executor.shutdown();
		try {
			this.executor.awaitTermination(5, TimeUnit.SECONDS);
			leave();
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		catch (RuntimeException ex) {
			logger.warn("Could not leave the fleet in Redis; the others take this replica's slots once its "
					+ "heartbeat expires: {}", ex.toString());
		}
	}

	/**
	 * Starts nothing more, keeps holding the slots of the leases still running (batch
	 * items, say) until they have ended or a heartbeat TTL has passed, then leaves the
	 * fleet: what it held is free for the others at once.
	 */
	private void leave() throws InterruptedException {
		this.runtime.slotUse().forEach((use) -> this.runtime.grant(use.pool(), Map.of()));
		long until = this.clock.millis() + this.properties.heartbeatTtl().toMillis();
		while (this.clock.millis() < until) {
			List<SlotUse> uses = this.runtime.slotUse();
			if (uses.stream().flatMap((use) -> use.endpoints().stream()).allMatch((e) -> e.used() == 0)) {
				break;
			}
			claim(uses, Map.of(), Map.of());
			Thread.sleep(Math.max(1, this.properties.syncInterval().toMillis()));
		}
		this.ledger.leave(this.identity.name());
	}

	@Override
	public boolean isRunning() {
		return this.running;
	}

	/** Before the web server takes requests, and stopped after it has drained. */
	@Override
	public int getPhase() {
		return SmartLifecycle.DEFAULT_PHASE - 4096;
	}

	@Override
	public void upserted(Endpoint endpoint) {
		trigger();
	}

	@Override
	public void removed(Endpoint endpoint) {
		trigger();
	}

	private void trigger() {
		if (this.running && !this.halted && this.triggered.compareAndSet(false, true)) {
			try {
				this.executor.execute(() -> {
					this.triggered.set(false);
					syncSafely();
				});
			}
			catch (RuntimeException ex) {
				this.triggered.set(false);
			}
		}
	}

	private void syncSafely() {
		if (this.halted) {
			return;
		}
		try {
			sync();
		}
		catch (RuntimeException ex) {
			long silent = this.clock.millis() - this.lastSuccessMillis;
			if (!this.fenced && silent >= this.properties.fenceAfter().toMillis()) {
				this.fenced = true;
				logger.warn("No slot sync for {} ms: this replica starts no new request until Redis answers again ({})",
						silent, ex.toString());
				this.runtime.slotUse().forEach((use) -> this.runtime.grant(use.pool(), Map.of()));
			}
			else {
				logger.debug("Slot sync failed: {}", ex.toString());
			}
		}
	}

	/** One round: claims from the last picture; again at once if the picture moved. */
	void sync() {
		long started = this.clock.millis();
		List<SlotUse> uses = this.runtime.slotUse();
		Map<String, Map<Tier, Integer>> demand = sample(uses, started);
		Map<String, Integer> wants = wants(uses, demand, this.picture);
		FleetPicture after = claim(uses, demand, wants);
		this.lastSuccessMillis = started;
		this.fenced = false;
		Map<String, Integer> again = wants(uses, demand, after);
		if (!again.equals(wants)) {
			claim(this.runtime.slotUse(), demand, again);
		}
	}

	/** Records this round's demand and returns each pool's peak over the window. */
	private Map<String, Map<Tier, Integer>> sample(List<SlotUse> uses, long now) {
		Map<String, Map<Tier, Integer>> peaks = new TreeMap<>();
		long window = this.properties.demandWindow().toMillis();
		for (SlotUse use : uses) {
			Deque<long[]> pool = this.samples.computeIfAbsent(use.pool(), (k) -> new ArrayDeque<>());
			long[] sample = new long[Tier.values().length + 1];
			sample[0] = now;
			for (Tier tier : Tier.values()) {
				sample[tier.ordinal() + 1] = use.demand().getOrDefault(tier, 0);
			}
			pool.addLast(sample);
			while (pool.size() > 1 && pool.peekFirst()[0] < now - window) {
				pool.removeFirst();
			}
			Map<Tier, Integer> peak = new EnumMap<>(Tier.class);
			for (Tier tier : Tier.values()) {
				long max = 0;
				for (long[] s : pool) {
					max = Math.max(max, s[tier.ordinal() + 1]);
				}
				peak.put(tier, (int) max);
			}
			peaks.put(use.pool(), peak);
		}
		return peaks;
	}

	private Map<Tier, Double> reservedShares() {
		Map<Tier, Double> shares = new EnumMap<>(Tier.class);
		for (Map.Entry<Tier, TierDefinition> entry : this.tiers.all().entrySet()) {
			shares.put(entry.getKey(), entry.getValue().reservedShare());
		}
		return shares;
	}

	/** This replica's wanted slots per endpoint key, from a picture of the fleet. */
	private Map<String, Integer> wants(List<SlotUse> uses, Map<String, Map<Tier, Integer>> demand, FleetPicture fleet) {
		String me = this.identity.name();
		Map<String, Integer> wants = new HashMap<>();
		Map<Tier, Double> reserved = reservedShares();
		for (SlotUse use : uses) {
			Map<String, Integer> endpointSlots = new TreeMap<>();
			int total = 0;
			for (SlotUse.EndpointUse endpoint : use.endpoints()) {
				if (endpoint.slots() > 0) {
					endpointSlots.put(endpoint.key(), endpoint.slots());
					total += endpoint.slots();
				}
			}
			List<SlotAllocation.Demand> demands = new ArrayList<>();
			Map<String, Map<String, Integer>> held = new HashMap<>();
			demands.add(new SlotAllocation.Demand(me, demand.getOrDefault(use.pool(), Map.of())));
			Map<String, Integer> mine = new HashMap<>();
			use.endpoints().forEach((e) -> mine.put(e.key(), Math.max(e.granted(), e.used())));
			held.put(me, mine);
			if (fleet != null) {
				for (ReplicaState other : fleet.replicas()) {
					if (!other.name().equals(me)) {
						demands.add(new SlotAllocation.Demand(other.name(),
								other.demand().getOrDefault(use.pool(), Map.of())));
						held.put(other.name(), other.held());
					}
				}
			}
			Map<String, Integer> shares = SlotAllocation.shares(total, reserved, demands, this.properties.minShare());
			Map<String, Integer> row = SlotAllocation.place(endpointSlots, shares, held).getOrDefault(me, Map.of());
			for (SlotUse.EndpointUse endpoint : use.endpoints()) {
				wants.put(endpoint.key(), row.getOrDefault(endpoint.key(), 0));
			}
		}
		return wants;
	}

	private FleetPicture claim(List<SlotUse> uses, Map<String, Map<Tier, Integer>> demand, Map<String, Integer> wants) {
		List<RedisSlotLedger.Claim> claims = new ArrayList<>();
		for (SlotUse use : uses) {
			for (SlotUse.EndpointUse endpoint : use.endpoints()) {
				claims.add(new RedisSlotLedger.Claim(endpoint.key(), wants.getOrDefault(endpoint.key(), 0),
						Math.max(endpoint.granted(), endpoint.used()), endpoint.slots()));
			}
		}
		RedisSlotLedger.Result result = this.ledger.sync(this.identity.name(), this.properties.heartbeatTtl(),
				json.writeValueAsString(demand), claims);
		this.rounds.incrementAndGet();
		long now = this.clock.millis();
		if (this.halted) {
			return this.picture;
		}
		int i = 0;
		for (SlotUse use : uses) {
			Map<String, Integer> grants = new HashMap<>();
			int owned = 0;
			Counter counter = this.changes.computeIfAbsent(use.pool(),
					(pool) -> Counter.builder("tiergate.slot.ownership.changes")
						.description("Slots this replica gained or gave up, one per slot")
						.tag("pool", pool)
						.register(this.meters));
			int wanted = 0;
			for (SlotUse.EndpointUse endpoint : use.endpoints()) {
				int grant = result.grants().get(i++);
				int want = wants.getOrDefault(endpoint.key(), 0);
				grants.put(endpoint.key(), grant);
				owned += grant;
				wanted += want;
				Integer before = this.grantedByEndpoint.put(endpoint.key(), grant);
				if (before != null && before != grant) {
					counter.increment(Math.abs(grant - before));
				}
				if (grant < want) {
					this.shortSince.putIfAbsent(endpoint.key(), now);
				}
				else {
					Long since = this.shortSince.remove(endpoint.key());
					if (since != null) {
						this.handover.record(Duration.ofMillis(now - since));
					}
				}
			}
			this.runtime.grant(use.pool(), grants);
			this.wantedByPool.put(use.pool(), wanted);
			if (this.ownedByPool.put(use.pool(), owned) == null) {
				Gauge.builder("tiergate.owned.slots", this.ownedByPool, (m) -> m.getOrDefault(use.pool(), 0))
					.description("Slots of the pool this replica owns")
					.tag("pool", use.pool())
					.register(this.meters);
			}
		}
		FleetPicture picture = picture(result, now);
		this.picture = picture;
		return picture;
	}

	private FleetPicture picture(RedisSlotLedger.Result result, long now) {
		long ttl = this.properties.heartbeatTtl().toMillis();
		List<ReplicaState> replicas = new ArrayList<>();
		for (RedisSlotLedger.Replica replica : result.replicas()) {
			Map<String, Map<Tier, Integer>> demand;
			try {
				demand = replica.demand().isEmpty() ? Map.of() : json.readValue(replica.demand(), DEMAND);
			}
			catch (RuntimeException ex) {
				logger.debug("Replica {} published demand that is not ours: {}", replica.name(), ex.toString());
				demand = Map.of();
			}
			replicas.add(new ReplicaState(replica.name(), Math.max(0, ttl - Math.max(0, replica.heartbeatLeftMillis())),
					Map.copyOf(replica.held()), demand));
		}
		replicas.sort(java.util.Comparator.comparing(ReplicaState::name));
		return new FleetPicture(List.copyOf(replicas), now);
	}

	/**
	 * The slots this replica owns per pool, as last granted.
	 * @return pool to slots
	 */
	public Map<String, Integer> ownedByPool() {
		return new LinkedHashMap<>(new TreeMap<>(this.ownedByPool));
	}

}
