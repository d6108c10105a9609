package dev.tiergate.quota;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes the settlements (ends of requests) off the request's thread: a request hands its
 * settlement over and answers at once, and one thread applies what has been handed over
 * in as few Redis calls as there are tenants among it. While a call is out, the next
 * settlements gather, so the batches grow with the load (dozens at the maximum rate).
 * When the thread was idle, the first settlement to wake it waits up to {@code linger}
 * for company before it is applied (cut short by a full batch, {@link #flush} or
 * {@link #close}), so that under light traffic the thread, Redis's client and Redis are
 * woken once per linger rather than once per request. The thread sleeps while there is
 * nothing to settle and is woken only then, so a busy replica does not wake it per
 * request.
 * <p>
 * What a settlement changes in Redis (the lease released, the reservation corrected, the
 * usage) is visible a round trip after the answer rather than before it. Readers that
 * must see this replica's own settlements ({@link QuotaService#status},
 * {@link QuotaService#usage}, an admission refused on a limit a settlement frees) call
 * {@link #flush} first. A replica that stops settles what it holds ({@link #close}); one
 * that crashes loses at most the last linger's and round trip's settlements, as it loses
 * its leases, which then expire.
 */
final class SettlementBatcher implements AutoCloseable {

	private static final Logger logger = LoggerFactory.getLogger(SettlementBatcher.class);

	private final int maxBatch;

	private final Consumer<List<SettlementJournal.Settlement>> apply;

	private final ConcurrentLinkedQueue<SettlementJournal.Settlement> queue = new ConcurrentLinkedQueue<>();

	/**
	 * Settlements handed over, and those applied (or journaled): flush waits for these.
	 */
	private final AtomicLong submitted = new AtomicLong();

	private final AtomicLong done = new AtomicLong();

	/** Per tenant, settlements handed over and not yet applied. */
	private final Map<String, AtomicInteger> pending = new ConcurrentHashMap<>();

	private final Thread thread;

	private volatile boolean sleeping;

	private volatile boolean closed;

	/** Whether the thread is waiting out the linger (a full batch wakes it). */
	private volatile boolean lingering;

	/** Set by {@link #flush}: the settlement lingering now is wanted at once. */
	private volatile boolean hurry;

	private final long lingerNanos;

	/**
	 * Starts the settling thread.
	 * @param maxBatch most settlements taken for one round of calls
	 * @param linger how long the first settlement after an idle moment waits for others
	 * ({@code 0}: not at all)
	 * @param apply applies settlements in Redis, journaling what Redis does not confirm;
	 * never throws
	 */
	SettlementBatcher(int maxBatch, Duration linger, Consumer<List<SettlementJournal.Settlement>> apply) {
		this.maxBatch = maxBatch;
		this.lingerNanos = linger.toNanos();
		this.apply = apply;
		this.thread = Thread.ofPlatform().daemon().name("quota-settlement").start(this::run);
	}

	/**
	 * Hands a settlement over; it is applied after the calls in flight.
	 * @param settlement the settlement
	 * @return {@code false} once closed: the caller applies it itself
	 */
	boolean submit(SettlementJournal.Settlement settlement) {
		if (this.closed) {
			return false;
		}
		AtomicInteger tenantPending = this.pending.computeIfAbsent(settlement.tenantId(), (id) -> new AtomicInteger());
		tenantPending.incrementAndGet();
		this.submitted.incrementAndGet();
		this.queue.offer(settlement);
		if (this.sleeping || (this.lingering && this.submitted.get() - this.done.get() >= this.maxBatch)) {
			LockSupport.unpark(this.thread);
		}
		if (this.closed && this.queue.remove(settlement)) {
			// closed meanwhile, and nobody took it: it is the caller's again
			tenantPending.decrementAndGet();
			this.done.incrementAndGet();
			return false;
		}
		return true;
	}

	/**
	 * Whether settlements of a tenant are handed over and not yet applied.
	 * @param tenantId the tenant
	 * @return whether any is waiting
	 */
	boolean pending(String tenantId) {
		AtomicInteger count = this.pending.get(tenantId);
		return count != null && count.get() > 0;
	}

	/**
	 * Waits until every settlement handed over before this call has been applied or
	 * journaled.
	 * @param timeout the longest wait
	 * @return whether they all were
	 */
	boolean flush(Duration timeout) {
		long target = this.submitted.get();
		long deadline = System.nanoTime() + timeout.toNanos();
		if (this.done.get() < target) {
			this.hurry = true;
			LockSupport.unpark(this.thread);
		}
		while (this.done.get() < target) {
			if (System.nanoTime() - deadline >= 0 || !this.thread.isAlive()) {
				return this.done.get() >= target;
			}
			LockSupport.parkNanos(50_000);
		}
		return true;
	}

	private void run() {
		List<SettlementJournal.Settlement> batch = new ArrayList<>(this.maxBatch);
		boolean idle = true;
		while (!this.closed || !this.queue.isEmpty()) {
			if (idle && !this.queue.isEmpty()) {
				linger();
			}
			SettlementJournal.Settlement next = this.queue.poll();
			if (next == null) {
				idle = true;
				this.sleeping = true;
				if (this.queue.isEmpty() && !this.closed) {
					LockSupport.park(this);
				}
				this.sleeping = false;
				continue;
			}
			idle = false;
			batch.add(next);
			while (batch.size() < this.maxBatch && (next = this.queue.poll()) != null) {
				batch.add(next);
			}
			applyAll(batch);
			batch.clear();
		}
	}

	/**
	 * Waits up to the linger for more settlements to join the first, unless a batch is
	 * full, a reader flushes or the batcher closes. Meanwhile a submission wakes the
	 * thread only when it fills a batch.
	 */
	private void linger() {
		long until = System.nanoTime() + this.lingerNanos;
		this.lingering = true;
		while (!this.closed && !this.hurry && this.submitted.get() - this.done.get() < this.maxBatch) {
			long left = until - System.nanoTime();
			if (left <= 0) {
				break;
			}
			LockSupport.parkNanos(this, left);
		}
		this.lingering = false;
		this.hurry = false;
	}

	private void applyAll(List<SettlementJournal.Settlement> batch) {
		try {
			this.apply.accept(batch);
		}
		catch (RuntimeException ex) {
			// apply journals what Redis did not confirm and never throws: this is a bug
			logger.error("Quota settlements lost: {}", batch.size(), ex);
		}
		for (SettlementJournal.Settlement settlement : batch) {
			this.pending.get(settlement.tenantId()).decrementAndGet();
		}
		this.done.addAndGet(batch.size());
	}

	/**
	 * Stops taking settlements and applies those handed over (for at most ten seconds).
	 */
	@Override
	public void close() {
		this.closed = true;
		LockSupport.unpark(this.thread);
		try {
			this.thread.join(Duration.ofSeconds(10));
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		if (this.thread.isAlive()) {
			logger.warn("Quota settlements still in flight at shutdown: {}", this.submitted.get() - this.done.get());
			return;
		}
		// handed over while the thread was finishing
		List<SettlementJournal.Settlement> rest = new ArrayList<>();
		for (SettlementJournal.Settlement next; (next = this.queue.poll()) != null;) {
			rest.add(next);
		}
		if (!rest.isEmpty()) {
			applyAll(rest);
		}
	}

}
