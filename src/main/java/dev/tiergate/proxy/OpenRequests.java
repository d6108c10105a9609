package dev.tiergate.proxy;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import dev.tiergate.tier.Tier;
import dev.tiergate.tier.TierDefinition;

/**
 * The front door's open requests on this replica, and how many it may hold. Each open
 * request holds the servlet container's buffers for its connection, a virtual thread and
 * an upstream connection until its answer ends (about 44 KiB of live heap per stream with
 * Tomcat, held for the whole length of the stream: docs/benchmarks.md), so a replica
 * asked for more streams than its heap holds would otherwise collect garbage until it
 * answers nothing, health checks included. Beyond the limit a request is refused at once
 * (503 {@code replica_full} with {@code Retry-After}), which a client or the load
 * balancer retries on another replica.
 * <p>
 * The tiers' reserved shares apply here as they do to GPU slots: a tier may not take the
 * shares reserved for the tiers above it, so that a flood of batch streams leaves P0 its
 * 30% (by default) of the replica. The limits follow the tier definitions when they
 * change. Opening is one compare-and-set on a shared counter, closing one decrement.
 */
public final class OpenRequests {

	/**
	 * What a replica is assumed to need besides its open requests, for the default limit.
	 */
	static final long HEAP_BASELINE = 256L * 1024 * 1024;

	/**
	 * Heap assumed per open request, for the default limit: the ~44 KiB of live heap
	 * measured per held stream with Tomcat (docs/benchmarks.md, 2026-12-02 17:27 UTC),
	 * and room for the collector: at the limit, under half of the heap is live.
	 */
	static final long HEAP_PER_REQUEST = 96L * 1024;

	/** The least default limit, whatever the heap. */
	static final int MIN_DEFAULT_LIMIT = 64;

	private final AtomicInteger open = new AtomicInteger();

	private final int limit;

	private final Duration retryAfter;

	/** The most requests open when one of each tier is opened, by tier ordinal. */
	private volatile int[] limits;

	/**
	 * The open requests of a replica.
	 * @param limit the most open requests, all tiers together
	 * @param tiers the tier definitions whose reserved shares divide it
	 * @param retryAfter the {@code Retry-After} of a request refused
	 */
	public OpenRequests(int limit, Map<Tier, TierDefinition> tiers, Duration retryAfter) {
		if (limit < 1) {
			throw new IllegalArgumentException("the open-request limit must be positive, not " + limit);
		}
		this.limit = limit;
		this.retryAfter = retryAfter;
		this.limits = limits(limit, tiers);
	}

	/**
	 * The default limit for a heap: what it holds beyond {@link #HEAP_BASELINE} at
	 * {@link #HEAP_PER_REQUEST} each, at least {@link #MIN_DEFAULT_LIMIT}.
	 * @param maxHeap the heap's maximum size in bytes ({@code Runtime.maxMemory()})
	 * @return the limit
	 */
	public static int defaultLimit(long maxHeap) {
		long fits = (maxHeap - HEAP_BASELINE) / HEAP_PER_REQUEST;
		return (int) Math.min(Integer.MAX_VALUE, Math.max(MIN_DEFAULT_LIMIT, fits));
	}

	/**
	 * Each tier's limit: the whole limit less the shares reserved for the tiers above it
	 * (rounded up, as slots are), and at least one.
	 */
	static int[] limits(int limit, Map<Tier, TierDefinition> tiers) {
		int[] limits = new int[Tier.values().length];
		double above = 0;
		for (Tier tier : Tier.values()) {
			limits[tier.ordinal()] = Math.max(1, limit - (int) Math.ceil(Math.min(1.0, above) * limit - 1e-9));
			TierDefinition definition = tiers.get(tier);
			above += (definition != null) ? definition.reservedShare() : 0;
		}
		return limits;
	}

	/**
	 * Follows new tier definitions.
	 * @param tiers the definitions now in force
	 */
	public void tiersChanged(Map<Tier, TierDefinition> tiers) {
		this.limits = limits(this.limit, tiers);
	}

	/**
	 * Opens a request of a tier if the tier's limit allows it; a request opened must be
	 * {@linkplain #close() closed} once.
	 * @param tier the request's tier
	 * @return whether it was opened
	 */
	public boolean tryOpen(Tier tier) {
		int max = this.limits[tier.ordinal()];
		int current = this.open.get();
		while (current < max) {
			int witness = this.open.compareAndExchange(current, current + 1);
			if (witness == current) {
				return true;
			}
			current = witness;
		}
		return false;
	}

	/** Closes a request that {@link #tryOpen(Tier)} opened. */
	public void close() {
		this.open.decrementAndGet();
	}

	/**
	 * The refusal of a request whose tier's limit is reached.
	 * @param tier the request's tier
	 * @return 503 {@code replica_full} with {@code Retry-After}
	 */
	public OpenAiException refusal(Tier tier) {
		return new OpenAiException(
				503, "service_unavailable", "replica_full", "This Tiergate replica holds the most requests it may ("
						+ limit(tier) + " for tier " + tier + "); retry, another replica takes the request.",
				this.retryAfter);
	}

	/**
	 * The requests open now.
	 * @return how many
	 */
	public int open() {
		return this.open.get();
	}

	/**
	 * The most requests open at once, all tiers together.
	 * @return the limit
	 */
	public int limit() {
		return this.limit;
	}

	/**
	 * The most requests open when one of a tier is opened.
	 * @param tier the tier
	 * @return its limit
	 */
	public int limit(Tier tier) {
		return this.limits[tier.ordinal()];
	}

}
