package dev.tiergate.batch;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

import dev.tiergate.batch.internal.BatchQueue;
import dev.tiergate.batch.internal.BatchRecords;
import dev.tiergate.batch.internal.QueueItem;
import dev.tiergate.dispatch.Admission;
import dev.tiergate.dispatch.DispatchRuntime;
import dev.tiergate.dispatch.Lease;
import dev.tiergate.dispatch.LeaseListener;
import dev.tiergate.dispatch.RejectReason;
import dev.tiergate.problem.TiergateException;
import dev.tiergate.proxy.ExchangeOutcome;
import dev.tiergate.proxy.ExchangeRequest;
import dev.tiergate.proxy.ExchangeResult;
import dev.tiergate.proxy.HostedSpill;
import dev.tiergate.proxy.UpstreamExchange;
import dev.tiergate.quota.QuotaException;
import dev.tiergate.quota.QuotaPermit;
import dev.tiergate.quota.QuotaService;
import dev.tiergate.quota.Tenant;
import dev.tiergate.quota.TenantStore;
import dev.tiergate.requestlog.RequestLog;
import dev.tiergate.requestlog.RequestRecord;
import dev.tiergate.spill.Spillover;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * This replica's batch workers. One loop looks at the unfinished batches in order and,
 * for each, asks the dispatcher how many items of the batch's tier its pool would start
 * at once ({@link DispatchRuntime#room}); it takes at most that many new items from the
 * batch's stream ({@code XREADGROUP}), plus a few ({@code prefetch}) that wait in the
 * dispatcher's queue at the batch's tier for the next freed slot, so batch work fills
 * idle slots and never queues ahead of real-time traffic. Each item runs on a virtual
 * thread through the same {@link UpstreamExchange} as online requests, into a
 * {@link BufferedAnswer}; a preemption before the answer puts it back at the head of its
 * tier (the dispatcher's requeue), failures are retried with backoff up to
 * {@code max-attempts}, then the item goes to the error file. Its result is written
 * idempotently, keyed by batch and {@code custom_id}, before it is acknowledged
 * ({@code XACK}); until then it stays pending, and this replica's heartbeat keeps it from
 * being claimed. Every {@code reclaim-interval} the loop claims items that dead workers
 * left pending longer than {@code claim-idle} ({@code XAUTOCLAIM}), expires batches past
 * their window, and finalizes batches that are done or cancelled.
 */
public class BatchWorkers implements SmartLifecycle {

	private static final Logger logger = LoggerFactory.getLogger(BatchWorkers.class);

	private final BatchRecords records;

	private final BatchQueue queue;

	private final BatchFinalizer finalizer;

	private final TenantStore tenants;

	private final QuotaService quota;

	private final DispatchRuntime dispatcher;

	private final Spillover spillover;

	private final HostedSpill hosted;

	private final UpstreamExchange exchange;

	private final BatchProperties properties;

	private final BatchFaults faults;

	private final BatchMetrics metrics;

	private final JsonMapper json;

	private final Clock clock;

	private final RequestLog requestLog;

	private final String name;

	private final Random random = new Random(42);

	/** Items running here, by batch: their entry ids, for the heartbeat. */
	private final Map<String, Set<String>> running = new ConcurrentHashMap<>();

	/** Items handed to a thread whose admission has not reached the dispatcher yet. */
	private final Map<String, AtomicInteger> starting = new ConcurrentHashMap<>();

	/** Batches this replica is queueing again after a cut-off, as tenant/batch. */
	private final Set<String> requeueing = ConcurrentHashMap.newKeySet();

	private final AtomicInteger inFlight = new AtomicInteger();

	private volatile boolean active;

	private volatile Thread loop;

	private ExecutorService items;

	private long lastReclaim;

	/** Whether the loop's last pass found no unfinished batch and nothing running. */
	private boolean idle;

	/** Set while the loop would be woken by a lease ending ({@link #slotFreed()}). */
	private final AtomicBoolean roomWatch = new AtomicBoolean();

	/**
	 * Set by {@link #wake()}: the next pass comes at once, not after the poll interval.
	 */
	private volatile boolean urgent;

	private volatile long passes;

	private long lastHeartbeat;

	private int rotation;

	BatchWorkers(BatchRecords records, BatchQueue queue, BatchFinalizer finalizer, TenantStore tenants,
			QuotaService quota, DispatchRuntime dispatcher, UpstreamExchange exchange, BatchProperties properties,
			BatchFaults faults, BatchMetrics metrics, JsonMapper json, Clock clock, RequestLog requestLog, String name,
			Spillover spillover, HostedSpill hosted) {
		this.spillover = spillover;
		this.hosted = hosted;
		this.name = name;
		this.records = records;
		this.queue = queue;
		this.finalizer = finalizer;
		this.tenants = tenants;
		this.quota = quota;
		this.dispatcher = dispatcher;
		this.exchange = exchange;
		this.properties = properties;
		this.faults = faults;
		this.metrics = metrics;
		this.json = json;
		this.clock = clock;
		this.requestLog = requestLog;
	}

	/**
	 * This replica's consumer name in the streams' group.
	 * @return the name
	 */
	public String name() {
		return this.name;
	}

	/**
	 * Items running on this replica now.
	 * @return the count
	 */
	public int inFlight() {
		return this.inFlight.get();
	}

	@Override
	public void start() {
		if (!this.properties.workers()) {
			return;
		}
		this.items = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("batch-item-", 0).factory());
		this.active = true;
		this.dispatcher.addLeaseListener(new LeaseListener() {

			@Override
			public void leaseEnded(Lease lease, long epochNanos) {
				slotFreed();
			}

			@Override
			public void roomOpened(String pool, long epochNanos) {
				slotFreed();
			}

		});
		// A platform thread: the loop that fills freed slots must not wait for a carrier
		// behind the item threads it starts.
		this.loop = Thread.ofPlatform().daemon().name("batch-workers").start(this::run);
		logger.info("Batch workers started as {}", this.name);
	}

	@Override
	public void stop() {
		this.active = false;
		Thread thread = this.loop;
		if (thread != null) {
			thread.interrupt();
		}
		if (this.items != null) {
			// No new item; running ones finish while the rest of the replica shuts down
			// (their leases end before it leaves the slot ledger). An item still running
			// when the process ends stays pending and is claimed by another replica.
			this.items.shutdown();
		}
	}

	@Override
	public boolean isRunning() {
		return this.active;
	}

	/**
	 * Stops first on shutdown, before readiness goes down ({@code DEFAULT_PHASE - 512})
	 * and the web server drains, so that no item is taken from then on; starts last. (It
	 * was {@code DEFAULT_PHASE + 100}, which overflows to a very low phase: the workers
	 * kept taking items through the whole shutdown and were stopped after Redis.)
	 * @return the phase
	 */
	@Override
	public int getPhase() {
		return SmartLifecycle.DEFAULT_PHASE - 256;
	}

	private void run() {
		long pollNanos = this.properties.pollInterval().toNanos();
		long idleNanos = this.properties.idlePollInterval().toNanos();
		while (this.active) {
			long passStarted = System.nanoTime();
			boolean took = false;
			boolean wasIdle = this.idle;
			this.idle = false;
			this.urgent = false;
			if (!wasIdle) {
				// Armed before the pass: a slot freed while it runs wakes the wait after
				// it. (Not after an idle pass: interactive traffic would add passes to
				// an idle loop.)
				this.roomWatch.set(true);
			}
			try {
				took = cycle();
			}
			catch (RuntimeException ex) {
				if (!this.active) {
					return;
				}
				logger.warn("Batch worker cycle failed: {}", ex.toString());
			}
			this.passes++;
			if (took) {
				continue;
			}
			if (this.idle) {
				// No unfinished batch, nothing running: nothing can change but an
				// activation, which is announced (wake) or found at the idle poll.
				this.roomWatch.set(false);
				LockSupport.parkNanos(idleNanos);
			}
			else {
				// Unfinished batches, none of whose items could be taken: no room, or
				// nothing left to read here. Either changes when a slot frees up (a
				// lease ending in the dispatcher) or is added (an endpoint, a grant, a
				// tier's share), an item of ours ends or a batch is activated (wake),
				// or at maintenance.
				this.roomWatch.set(true);
				long untilMaintenance = this.lastReclaim + this.properties.reclaimInterval().toMillis()
						- this.clock.millis();
				LockSupport.parkNanos(Math.max(pollNanos, Math.min(idleNanos, untilMaintenance * 1_000_000L)));
				this.roomWatch.set(false);
				// Freed slots wake at most one pass per poll interval: under busy
				// interactive traffic a lease ends every millisecond.
				long left;
				while (!this.urgent && this.active && (left = passStarted + pollNanos - System.nanoTime()) > 0) {
					LockSupport.parkNanos(left);
				}
			}
			if (Thread.interrupted() && !this.active) {
				return;
			}
		}
	}

	/**
	 * A lease ended somewhere in the dispatcher, or slots were added to a pool: room may
	 * have opened for a batch. Wakes the loop when it waits having taken nothing (once
	 * per wait; a volatile read otherwise).
	 */
	private void slotFreed() {
		if (this.roomWatch.get() && this.roomWatch.compareAndSet(true, false)) {
			Thread thread = this.loop;
			if (thread != null) {
				LockSupport.unpark(thread);
			}
		}
	}

	/**
	 * The loop's passes since it started, for tests.
	 * @return the count
	 */
	long passes() {
		return this.passes;
	}

	/**
	 * One pass over the unfinished batches.
	 * @return whether any item was taken
	 */
	boolean cycle() {
		long now = this.clock.millis();
		boolean maintain = now - this.lastReclaim >= this.properties.reclaimInterval().toMillis();
		if (maintain) {
			this.lastReclaim = now;
		}
		if (now - this.lastHeartbeat >= this.properties.claimIdle().toMillis() / 3) {
			this.lastHeartbeat = now;
			heartbeat();
		}
		List<String> active = this.records.active();
		if (active.isEmpty()) {
			this.idle = this.inFlight.get() == 0;
			if (maintain) {
				this.metrics.refresh(everyPoolAtZero(), Map.of());
			}
			return false;
		}
		boolean took = false;
		Map<String, Long> queued = maintain ? everyPoolAtZero() : new java.util.HashMap<>();
		Map<BatchStatus, Long> byStatus = new java.util.EnumMap<>(BatchStatus.class);
		int n = active.size();
		int offset = Math.floorMod(this.rotation++, n);
		for (int i = 0; i < n && this.active; i++) {
			String member = active.get((offset + i) % n);
			int slash = member.indexOf('/');
			Optional<Batch> found = this.records.find(member.substring(0, slash), member.substring(slash + 1));
			if (found.isEmpty()) {
				this.records.deactivate(member.substring(0, slash), member.substring(slash + 1));
				continue;
			}
			Batch batch = found.get();
			if (maintain) {
				byStatus.merge(batch.status(), 1L, Long::sum);
				if (!batch.status().terminal() && batch.model() != null) {
					long waiting = Math.max(0, batch.remaining() - this.queue.pending(batch.tenant(), batch.id()));
					queued.merge(batch.model(), (batch.status() == BatchStatus.IN_PROGRESS) ? waiting : 0L, Long::sum);
				}
				maintain(batch);
			}
			if (batch.status() == BatchStatus.IN_PROGRESS && !expired(batch)) {
				took |= take(batch, maintain);
			}
		}
		if (maintain) {
			this.metrics.refresh(queued, byStatus);
		}
		return took;
	}

	/**
	 * Every pool the dispatcher knows, with no queued items: the queue-depth gauge of a
	 * pool exists (at zero) before its first batch, so that alerts and dashboards see 0
	 * rather than no series.
	 */
	private Map<String, Long> everyPoolAtZero() {
		Map<String, Long> pools = new java.util.HashMap<>();
		for (var snapshot : this.dispatcher.snapshots()) {
			pools.put(snapshot.pool(), 0L);
		}
		return pools;
	}

	private boolean expired(Batch batch) {
		return batch.expiresAt() != null && this.clock.instant().getEpochSecond() >= batch.expiresAt();
	}

	private int room(Batch batch) {
		// Items still "starting" hold no slot yet: they wait for quota or in the
		// dispatcher's queue. Some of them may wait beyond the pool's room while requests
		// run on it, so that the dispatcher hands a freed slot to the next item at once
		// (BatchProperties.prefetchFor).
		int room = this.dispatcher.room(batch.model(), batch.tier());
		int prefetch = this.properties.prefetchFor(room, this.dispatcher.inUse(batch.model()));
		int free = room + prefetch - this.starting.computeIfAbsent(batch.model(), (m) -> new AtomicInteger()).get();
		return Math.min(free, this.properties.maxInFlight() - this.inFlight.get());
	}

	private boolean take(Batch batch, boolean reclaim) {
		int room = room(batch);
		if (room <= 0) {
			return false;
		}
		Optional<Tenant> tenant = this.tenants.find(batch.tenant());
		if (tenant.isEmpty()) {
			// Its tenant was deleted: nobody may run or read it any more.
			this.finalizer.failOrphaned(batch);
			return false;
		}
		boolean took = false;
		if (reclaim) {
			List<BatchQueue.Delivery> claimed = this.queue.claim(batch.tenant(), batch.id(), this.name,
					this.properties.claimIdle(), Math.min(room, this.properties.maxItemsPerRead()));
			for (BatchQueue.Delivery delivery : claimed) {
				start(batch, tenant.get(), delivery, true);
			}
			room -= claimed.size();
			took = !claimed.isEmpty();
		}
		if (room <= 0) {
			return took;
		}
		this.faults.at(BatchFaults.Point.BEFORE_READ, batch.id(), null);
		List<BatchQueue.Delivery> deliveries = this.queue.read(batch.tenant(), batch.id(), this.name,
				Math.min(room, this.properties.maxItemsPerRead()));
		for (BatchQueue.Delivery delivery : deliveries) {
			start(batch, tenant.get(), delivery, false);
		}
		return took || !deliveries.isEmpty();
	}

	private void start(Batch batch, Tenant tenant, BatchQueue.Delivery delivery, boolean reclaimed) {
		this.inFlight.incrementAndGet();
		AtomicInteger starting = this.starting.computeIfAbsent(batch.model(), (m) -> new AtomicInteger());
		starting.incrementAndGet();
		this.running.computeIfAbsent(batch.tenant() + "/" + batch.id(), (k) -> ConcurrentHashMap.newKeySet())
			.add(delivery.entryId());
		try {
			this.items.execute(() -> process(batch, tenant, delivery, reclaimed, starting));
		}
		catch (RuntimeException ex) {
			starting.decrementAndGet();
			done(batch, delivery);
			throw ex;
		}
	}

	/**
	 * Wakes the loop from its poll interval: a slot or an in-flight place was freed, or a
	 * batch was activated (on any replica: {@code BatchKeys.ACTIVATED}).
	 */
	void wake() {
		this.urgent = true;
		Thread thread = this.loop;
		if (thread != null) {
			LockSupport.unpark(thread);
		}
	}

	private void done(Batch batch, BatchQueue.Delivery delivery) {
		this.inFlight.decrementAndGet();
		Set<String> ids = this.running.get(batch.tenant() + "/" + batch.id());
		if (ids != null) {
			ids.remove(delivery.entryId());
		}
		wake();
	}

	private void process(Batch batch, Tenant tenant, BatchQueue.Delivery delivery, boolean reclaimed,
			AtomicInteger starting) {
		QueueItem item = delivery.item();
		Once admitted = new Once(starting::decrementAndGet);
		try {
			if (reclaimed) {
				this.faults.at(BatchFaults.Point.RECLAIMED, batch.id(), item.customId());
				this.metrics.reclaimed();
				if (this.queue.hasResult(batch.tenant(), batch.id(), item.customId())) {
					// Written before its worker died: only the acknowledgement was
					// missing.
					admitted.run();
					this.queue.ack(batch.tenant(), batch.id(), delivery.entryId());
					return;
				}
				if (this.queue.deliveries(batch.tenant(), batch.id(), delivery.entryId()) > this.properties
					.maxDeliveries()) {
					admitted.run();
					finish(batch, delivery,
							Result.error(item, "worker_lost",
									"The request was interrupted " + this.properties.maxDeliveries()
											+ " times by workers that stopped; it is not retried.",
									0));
					return;
				}
			}
			Result result = run(batch, tenant, item, admitted);
			admitted.run();
			finish(batch, delivery, result);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		catch (RuntimeException ex) {
			// A crash point or Redis failing: the item stays pending and will be
			// claimed again.
			logger.debug("Batch item {} of {} left pending: {}", item.customId(), batch.id(), ex.toString());
		}
		finally {
			admitted.run();
			done(batch, delivery);
		}
	}

	/** Runs an action the first time only. */
	private static final class Once implements Runnable {

		private final Runnable action;

		private final java.util.concurrent.atomic.AtomicBoolean ran = new java.util.concurrent.atomic.AtomicBoolean();

		Once(Runnable action) {
			this.action = action;
		}

		@Override
		public void run() {
			if (this.ran.compareAndSet(false, true)) {
				this.action.run();
			}
		}

	}

	private void finish(Batch batch, BatchQueue.Delivery delivery, Result result) {
		QueueItem item = delivery.item();
		this.faults.at(BatchFaults.Point.BEFORE_RESULT_WRITE, batch.id(), item.customId());
		BatchQueue.Recorded recorded = this.queue.record(batch.tenant(), batch.id(), item.customId(), result.ok(),
				result.line(this.json, item.customId()));
		this.faults.at(BatchFaults.Point.AFTER_RESULT_WRITE, batch.id(), item.customId());
		this.queue.ack(batch.tenant(), batch.id(), delivery.entryId());
		if (recorded.written() == 1) {
			this.metrics.item(result.ok() ? "completed" : "failed", result.attempts());
		}
		if (recorded.written() >= 0 && recorded.done() >= recorded.total()) {
			this.records.find(batch.tenant(), batch.id()).ifPresent((b) -> this.finalizer.finalizeBatch(b, this.name));
		}
	}

	/**
	 * Runs an item: attempts until an answer that is final (2xx, or a 4xx other than 429)
	 * or the attempts are used up.
	 */
	private Result run(Batch batch, Tenant tenant, QueueItem item, Runnable admitted) throws InterruptedException {
		Result last = null;
		for (int attempt = 1; attempt <= this.properties.maxAttempts(); attempt++) {
			if (attempt > 1) {
				Thread.sleep(backoff(attempt));
			}
			QuotaPermit permit;
			try {
				permit = this.quota.admitBatch(tenant, batch.tier(), batch.model(), item.promptTokens(),
						item.maxTokens());
			}
			catch (QuotaException.Exceeded ex) {
				return Result.error(item, ex.code(), ex.getMessage(), attempt);
			}
			catch (QuotaException.Unavailable ex) {
				admitted.run();
				last = Result.error(item, ex.code(), ex.getMessage(), attempt);
				continue;
			}
			Attempt outcome;
			Instant arrived = this.clock.instant();
			long started = System.nanoTime();
			try (Admission admission = this.dispatcher.admit(batch.model(), batch.tier(), tenant.id(), tenant.weight(),
					item.promptTokens() + item.maxTokens())) {
				// Still "starting" while it waits in the dispatcher's queue: the loop's
				// room counts it until it holds a slot (or is turned away).
				outcome = attempt(batch, tenant, item, admission, admitted);
			}
			catch (RuntimeException | InterruptedException ex) {
				permit.close();
				throw ex;
			}
			finally {
				// The item's slot is free again: let the loop fill it now rather than at
				// its next poll.
				wake();
			}
			if (outcome.status() >= 200 && outcome.status() < 300) {
				long[] usage = usage(outcome.body());
				if (outcome.hosted()) {
					permit.servedByHosted();
				}
				if (usage != null) {
					permit.complete(usage[0], usage[1]);
				}
				else {
					permit.completeUnreported();
				}
				long ended = System.nanoTime();
				this.requestLog.append(new RequestRecord(arrived, tenant.id(), batch.tier(), batch.model(), "batch",
						false, outcome.status(), (usage != null) ? usage[0] : item.promptTokens(),
						(usage != null) ? usage[1] : 0, outcome.queuedNanos() / 1e6,
						((outcome.firstByteAt() != 0) ? outcome.firstByteAt() - started : ended - started) / 1e6,
						(ended - started) / 1e6, outcome.hosted() ? RequestRecord.HOSTED : RequestRecord.FLEET));
				return Result.answer(item, outcome, true, attempt);
			}
			permit.close();
			if (outcome.status() >= 400 && outcome.status() < 500 && outcome.status() != 429) {
				return Result.answer(item, outcome, false, attempt);
			}
			last = (outcome.status() > 0) ? Result.answer(item, outcome, false, attempt)
					: Result.error(item, outcome.code(), outcome.message(), attempt);
		}
		return last;
	}

	private long backoff(int attempt) {
		long base = this.properties.retryBackoff().toMillis() << Math.min(20, attempt - 2);
		long capped = Math.min(base, this.properties.maxRetryBackoff().toMillis());
		synchronized (this.random) {
			return capped / 2 + (long) (this.random.nextDouble() * (capped / 2.0));
		}
	}

	/** The retry loop of one attempt on the dispatcher, as the online path runs it. */
	private Attempt attempt(Batch batch, Tenant tenant, QueueItem item, Admission admission, Runnable admitted)
			throws InterruptedException {
		ExchangeRequest request = new ExchangeRequest(batch.endpoint(),
				item.body().getBytes(java.nio.charset.StandardCharsets.UTF_8), false,
				batch.id() + "-" + UUID.randomUUID().toString().substring(0, 8), batch.tier());
		boolean retried = false;
		long queued = 0;
		// Batch items spill only for a tenant that opted in, and only where the batch
		// tier's spill policy allows it (P2: never, unless an operator sets it).
		Spillover.Plan spill = tenant.batchSpill()
				? this.spillover.plan(batch.model(), batch.tier(), tenant.id(), item.promptTokens(), item.maxTokens())
					.orElse(null)
				: null;
		while (true) {
			Admission.Running running;
			try {
				running = (spill != null) ? admission.awaitSlot(spill.spillAfter()) : admission.awaitSlot();
				admitted.run();
				if (running == null) {
					Attempt hosted = hosted(spill, admission, request);
					spill = null;
					if (hosted != null) {
						return hosted;
					}
					// A cap was reached or the hosted API failed before answering: back
					// to waiting for the fleet, with the deadline it had.
					admission.rejoin();
					continue;
				}
				queued += running.queued().toNanos();
			}
			catch (Admission.Rejected rejected) {
				admitted.run();
				if (rejected.reason() == RejectReason.SHUTTING_DOWN) {
					// Handed back: not answered, not acknowledged, so the item stays
					// pending and another replica claims it.
					throw new InterruptedException("Shutting down: item " + item.customId() + " is handed back");
				}
				Attempt hosted = (spill != null) ? hosted(spill, admission, request) : null;
				if (hosted != null) {
					return hosted;
				}
				return new Attempt(0, null, request.requestId(), rejected.reason().code(), "No slot for tier "
						+ batch.tier() + " on model " + batch.model() + ": " + rejected.reason().code());
			}
			BufferedAnswer answer = new BufferedAnswer();
			ExchangeResult result;
			try {
				result = this.exchange.forward(request, running, answer, !retried);
			}
			catch (TiergateException ex) {
				return new Attempt(0, null, request.requestId(), ex.code(), ex.getMessage());
			}
			if (result.outcome() == ExchangeOutcome.REQUEUED) {
				this.metrics.preempted();
				continue;
			}
			if (result.outcome() == ExchangeOutcome.RETRY) {
				retried = true;
				admission.retryElsewhere();
				continue;
			}
			if (result.outcome() != ExchangeOutcome.DONE) {
				return new Attempt(0, null, request.requestId(), "upstream_error",
						"The request ended before its answer was complete (" + result.outcome() + ").");
			}
			return new Attempt(answer.status(), answer.body(), request.requestId(), null, null, queued,
					result.firstByteAt(), false);
		}
	}

	/** Runs an item on the hosted API; {@code null} when it served nothing. */
	private Attempt hosted(Spillover.Plan plan, Admission admission, ExchangeRequest request)
			throws InterruptedException {
		BufferedAnswer answer = new BufferedAnswer();
		ExchangeResult result = this.hosted.forward(plan, admission, request, answer, (name, value) -> {
		});
		if (result == null || result.outcome() != ExchangeOutcome.DONE) {
			return null;
		}
		return new Attempt(answer.status(), answer.body(), request.requestId(), null, null, 0, result.firstByteAt(),
				true);
	}

	private long[] usage(byte[] body) {
		try {
			JsonNode usage = this.json.readTree(body).path("usage");
			if (usage.path("prompt_tokens").isIntegralNumber()) {
				return new long[] { usage.path("prompt_tokens").asLong(), usage.path("completion_tokens").asLong(0) };
			}
		}
		catch (JacksonException ex) {
			// no usage
		}
		return null;
	}

	/**
	 * Keeps the items running here from being claimed by other workers: resets their idle
	 * time.
	 */
	private void heartbeat() {
		this.running.forEach((member, ids) -> {
			if (ids.isEmpty()) {
				return;
			}
			int slash = member.indexOf('/');
			try {
				this.queue.touch(member.substring(0, slash), member.substring(slash + 1), this.name,
						new ArrayList<>(ids));
			}
			catch (RuntimeException ex) {
				logger.debug("Heartbeat of batch {} failed: {}", member, ex.toString());
			}
		});
		this.running.values().removeIf(Set::isEmpty);
	}

	/**
	 * Expires, cancels, finalizes and cleans up, whichever a batch needs now.
	 */
	private void maintain(Batch batch) {
		String tenant = batch.tenant();
		switch (batch.status()) {
			case IN_PROGRESS -> {
				if (batch.remaining() == 0 || (expired(batch) && this.queue.pending(tenant, batch.id()) == 0)) {
					this.finalizer.finalizeBatch(batch, this.name);
				}
				else if (expired(batch)) {
					// Past its window: no new item starts; items left by dead workers end
					// here unrun, so that the batch can expire with what ran.
					drainPending(batch);
				}
			}
			case CANCELLING -> {
				drainPending(batch);
				if (this.queue.pending(tenant, batch.id()) == 0) {
					this.finalizer.finalizeBatch(batch, this.name);
				}
			}
			case FINALIZING -> this.finalizer.finalizeBatch(batch, this.name);
			case VALIDATING -> {
				// Queueing notes its progress with every page: one that made none for
				// claim-idle was cut off (its replica died), a slow one goes on alone.
				long last = Math.max(batch.createdAt() * 1000, this.records.queueingProgress(tenant, batch.id()));
				if (this.clock.millis() - last > this.properties.claimIdle().toMillis()) {
					// Its queueing was cut off: start it again from the file.
					this.tenants.find(tenant)
						.ifPresentOrElse((t) -> restartQueueing(t, batch), () -> this.finalizer.failOrphaned(batch));
				}
			}
			default -> this.finalizer.release(tenant, batch.id());
		}
	}

	/**
	 * Queues a cut-off batch again from its file, on a thread of its own: a large file
	 * takes a while, and this loop keeps taking the other batches' items meanwhile. At
	 * most one such queueing per batch on this replica at a time (the next maintenance
	 * pass may come before the first page noted progress).
	 */
	private void restartQueueing(Tenant tenant, Batch batch) {
		String key = tenant.id() + "/" + batch.id();
		if (!this.requeueing.add(key)) {
			return;
		}
		logger.info("Queueing of batch {} was cut off; queueing it again", batch.id());
		try {
			Thread.ofVirtual().name("batch-requeue-" + batch.id()).start(() -> {
				try {
					this.enqueuer.accept(tenant, batch);
				}
				catch (RuntimeException ex) {
					logger.warn("Queueing batch {} again failed (tried again after claim-idle): {}", batch.id(),
							ex.toString());
				}
				finally {
					this.requeueing.remove(key);
					wake();
				}
			});
		}
		catch (RuntimeException ex) {
			this.requeueing.remove(key);
			throw ex;
		}
	}

	private java.util.function.BiConsumer<Tenant, Batch> enqueuer = (tenant, batch) -> {
	};

	/**
	 * Who queues a batch again whose queueing was cut off.
	 * @param enqueuer the batch service's enqueue
	 */
	void enqueuer(java.util.function.BiConsumer<Tenant, Batch> enqueuer) {
		this.enqueuer = enqueuer;
	}

	/**
	 * Acknowledges, without running them, items of a cancelled or expired batch that dead
	 * workers left pending.
	 */
	private void drainPending(Batch batch) {
		List<BatchQueue.Delivery> claimed = this.queue.claim(batch.tenant(), batch.id(), this.name,
				this.properties.claimIdle(), 1000);
		for (BatchQueue.Delivery delivery : claimed) {
			this.queue.ack(batch.tenant(), batch.id(), delivery.entryId());
		}
	}

	/**
	 * What one attempt came to.
	 *
	 * @param status the upstream's status, 0 without an answer
	 * @param body the answer
	 * @param requestId the upstream request's id
	 * @param code why there is no answer
	 * @param message what went wrong
	 * @param queuedNanos time spent waiting for a slot
	 * @param firstByteAt when the answer's first byte arrived ({@link System#nanoTime}),
	 * 0 when none did
	 */
	record Attempt(int status, byte[] body, String requestId, String code, String message, long queuedNanos,
			long firstByteAt, boolean hosted) {

		Attempt(int status, byte[] body, String requestId, String code, String message) {
			this(status, body, requestId, code, message, 0, 0, false);
		}

	}

	/**
	 * An item's outcome, as its result line says it.
	 *
	 * @param ok whether it goes to the output file
	 * @param attempt the attempt that answered, or {@code null}
	 * @param code the error code when there was no answer
	 * @param message the error message when there was no answer
	 * @param attempts attempts made
	 */
	record Result(boolean ok, Attempt attempt, String code, String message, int attempts) {

		static Result answer(QueueItem item, Attempt attempt, boolean ok, int attempts) {
			return new Result(ok, attempt, null, null, attempts);
		}

		static Result error(QueueItem item, String code, String message, int attempts) {
			return new Result(false, null, code, message, attempts);
		}

		String line(JsonMapper json, String customId) {
			ObjectNode line = json.createObjectNode();
			line.put("id", "batch_req_" + UUID.randomUUID().toString().replace("-", ""));
			line.put("custom_id", customId);
			if (this.attempt != null) {
				ObjectNode response = line.putObject("response");
				response.put("status_code", this.attempt.status());
				response.put("request_id", this.attempt.requestId());
				JsonNode body;
				try {
					body = json.readTree(this.attempt.body());
				}
				catch (JacksonException ex) {
					body = json.getNodeFactory()
						.stringNode(new String(this.attempt.body(), java.nio.charset.StandardCharsets.UTF_8));
				}
				response.set("body", body);
				line.putNull("error");
			}
			else {
				line.putNull("response");
				ObjectNode error = line.putObject("error");
				error.put("code", this.code);
				error.put("message", this.message);
			}
			return json.writeValueAsString(line);
		}

	}

}
