package dev.tiergate.batch;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

import jakarta.validation.constraints.DecimalMax;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;

/**
 * Batch work: the Files API's limits and the workers that run batch items.
 *
 * @param maxFileSize largest file {@code POST /v1/files} accepts (default 100MB, as
 * OpenAI's batch input limit was once); a larger one is refused with 400
 * {@code file_too_large} (or 413 when the whole upload is far beyond it)
 * @param chunkSize size of the pieces a file is stored in (no Redis value is larger),
 * 64KB to 8MB
 * @param maxItems most requests in one batch input file (OpenAI allows 50,000)
 * @param maxLineErrors most invalid lines a refused file's message lists
 * @param workers whether this replica runs batch workers
 * @param pollInterval the shortest time between two passes of the workers' loop that
 * slots freeing up or added in the dispatcher wake, while batches are unfinished and the
 * last pass took no item (an item of theirs that ends, or an activation, wakes them at
 * once)
 * @param idlePollInterval the longest the workers wait, having taken no item, before they
 * read Redis again (with unfinished batches, at most until the next maintenance); with no
 * batch unfinished and none of their items running, how often they look for batches: a
 * batch's activation is announced over Redis pub/sub and wakes every replica's workers at
 * once, so this only bounds the delay when an announcement was missed (default 1s: one
 * Redis read per second on an idle replica instead of twenty)
 * @param maxItemsPerRead most items taken from one batch's stream at once
 * @param maxInFlight most items this replica runs at once, whatever the room
 * @param prefetch items per pool taken beyond its room and left waiting in the
 * dispatcher's queue at the batch's tier (admitted by quota, holding no slot), so that a
 * slot that frees is refilled by the dispatcher at once instead of after the workers'
 * next read from Redis; they wait behind every request of a higher tier like any queued
 * request; the least taken while requests run on the pool, 0 with
 * {@code prefetchPerLease} 0 turns this off
 * @param prefetchPerLease items per slot the pool's running requests hold (on this
 * replica) taken beyond its room the same way, when that is more than {@code prefetch}:
 * one waiting item per running one keeps a large pool busy however fast its items end (on
 * the embedded fleet's 160 slots, slot use 84% with 8 waiting, 99% with one per slot,
 * docs/benchmarks.md)
 * @param maxAttempts attempts of an item (failures before an answer, 5xx, 429, no slot in
 * time) before it goes to the error file
 * @param retryBackoff wait before an item's second attempt, doubling with each further
 * one
 * @param maxRetryBackoff longest wait between attempts
 * @param claimIdle how long an item may sit pending without its worker's heartbeat before
 * another worker claims it ({@code XAUTOCLAIM}); live workers renew theirs every third of
 * it
 * @param reclaimInterval how often workers look for items left by dead workers, and for
 * batches to expire, cancel or finalize
 * @param maxDeliveries deliveries of one item (claims after crashes) before it goes to
 * the error file instead of running again
 */
@Validated
@ConfigurationProperties("tiergate.batch")
public record BatchProperties(@DefaultValue("100MB") @NotNull DataSize maxFileSize,
		@DefaultValue("1MB") @NotNull DataSize chunkSize, @DefaultValue("50000") @Min(1) @Max(1_000_000) int maxItems,
		@DefaultValue("20") @Min(1) @Max(1000) int maxLineErrors, @DefaultValue("true") boolean workers,
		@DefaultValue("50ms") @NotNull Duration pollInterval, @DefaultValue("1s") @NotNull Duration idlePollInterval,
		@DefaultValue("64") @Min(1) @Max(10_000) int maxItemsPerRead,
		@DefaultValue("1024") @Min(1) @Max(100_000) int maxInFlight, @DefaultValue("8") @Min(0) @Max(1000) int prefetch,
		@DefaultValue("1.0") @DecimalMin("0.0") @DecimalMax("10.0") double prefetchPerLease,
		@DefaultValue("5") @Min(1) @Max(100) int maxAttempts, @DefaultValue("500ms") @NotNull Duration retryBackoff,
		@DefaultValue("30s") @NotNull Duration maxRetryBackoff, @DefaultValue("2m") @NotNull Duration claimIdle,
		@DefaultValue("5s") @NotNull Duration reclaimInterval,
		@DefaultValue("5") @Min(1) @Max(1000) int maxDeliveries) {

	/**
	 * Items of a pool to take beyond its room: none while the pool has no room and runs
	 * nothing (no endpoint left, all unreachable: items would be taken only to fail),
	 * else {@code prefetch} or one per {@code 1 / prefetchPerLease} running requests,
	 * whichever is more.
	 * @param room the requests the pool would start at once
	 * @param inUse the pool's slots held by running requests
	 * @return the items to take beyond the room
	 */
	public int prefetchFor(int room, int inUse) {
		if (room <= 0 && inUse <= 0) {
			return 0;
		}
		return Math.max(this.prefetch, (int) Math.ceil(this.prefetchPerLease * inUse));
	}

	public BatchProperties {
		if (chunkSize.toBytes() < 64 * 1024 || chunkSize.toBytes() > 8 * 1024 * 1024) {
			throw new IllegalArgumentException(
					"tiergate.batch.chunk-size must be between 64KB and 8MB (was " + chunkSize + ")");
		}
		for (Duration d : new Duration[] { pollInterval, idlePollInterval, retryBackoff, maxRetryBackoff, claimIdle,
				reclaimInterval }) {
			if (d.isNegative() || d.isZero()) {
				throw new IllegalArgumentException("tiergate.batch durations must be positive (was " + d + ")");
			}
		}
		if (maxFileSize.toBytes() < 1) {
			throw new IllegalArgumentException("tiergate.batch.max-file-size must be positive");
		}
	}

}
