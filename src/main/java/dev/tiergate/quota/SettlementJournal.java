package dev.tiergate.quota;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.Function;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The settlements (reconciliations) of requests that ended while the quota store could
 * not be reached, and the admissions recorded after the answer of tenants without limits,
 * kept in this replica's memory in the order they happened and replayed when it answers
 * again. Each is removed only once Redis has confirmed it; the settlement script
 * remembers what it settled, so a replay whose answer was lost is not applied twice.
 * Bounded: past {@code capacity} the oldest is dropped (and counted); a replica that
 * stops loses its journal, as it loses its leases, which then expire.
 */
final class SettlementJournal {

	private static final Logger logger = LoggerFactory.getLogger(SettlementJournal.class);

	private final int capacity;

	private final Deque<Settlement> entries = new ArrayDeque<>();

	private final Counter journaled;

	private final Counter replayed;

	private final Counter dropped;

	SettlementJournal(int capacity, MeterRegistry meters) {
		this.capacity = capacity;
		this.journaled = counter(meters, "journaled",
				"Settlements (and admissions recorded after the answer) journaled while the quota store was unavailable");
		this.replayed = counter(meters, "replayed", "Journaled settlements applied once the quota store answered");
		this.dropped = counter(meters, "dropped", "Journaled settlements lost: journal full, or refused by Redis");
		Gauge.builder("tiergate.quota.journal.size", this, SettlementJournal::size)
			.description("Settlements waiting for the quota store")
			.register(meters);
	}

	private static Counter counter(MeterRegistry meters, String outcome, String description) {
		return Counter.builder("tiergate.quota.journal.settlements")
			.description(description)
			.tag("outcome", outcome)
			.register(meters);
	}

	/**
	 * Journals a settlement.
	 * @param settlement what to apply when Redis is back
	 */
	synchronized void add(Settlement settlement) {
		if (this.entries.size() >= this.capacity) {
			this.entries.removeFirst();
			this.dropped.increment();
			logger.warn("Quota settlement journal full ({}): the oldest settlement is dropped", this.capacity);
		}
		this.entries.addLast(settlement);
		this.journaled.increment();
	}

	/**
	 * Replays the journal in order until it is empty or a settlement is not confirmed.
	 * One replay at a time.
	 * @param apply applies one settlement and says how it went
	 * @return how many were applied
	 */
	synchronized int replay(Function<Settlement, Replay> apply) {
		int applied = 0;
		while (!this.entries.isEmpty()) {
			Replay outcome = apply.apply(this.entries.peekFirst());
			if (outcome == Replay.KEEP) {
				break;
			}
			this.entries.removeFirst();
			if (outcome == Replay.APPLIED) {
				this.replayed.increment();
				applied++;
			}
			else {
				this.dropped.increment();
			}
		}
		return applied;
	}

	/** How replaying one settlement went. */
	enum Replay {

		/** Redis confirmed it (or had settled it already). */
		APPLIED,

		/** Redis answered with an error that a retry would repeat: dropped. */
		REFUSED,

		/** Redis did not answer: kept, and the replay stops. */
		KEEP

	}

	/**
	 * Settlements waiting.
	 * @return the count
	 */
	synchronized int size() {
		return this.entries.size();
	}

	/**
	 * One request's end, as the settlement script needs it.
	 *
	 * @param tenantId the tenant
	 * @param batch whether it was a batch item's
	 * @param requestId the request's id in Redis
	 * @param promptTokens real (or estimated) prompt tokens
	 * @param completionTokens real (or allowed) completion tokens
	 * @param tier the tier
	 * @param model the model
	 * @param record whether it is recorded as usage
	 * @param reserved tokens reserved at admission
	 * @param month the month (UTC, {@code YYYY-MM}, Redis's clock) it was charged to, or
	 * {@code null} when unknown
	 * @param hosted whether a hosted upstream served it (recorded as a hosted request)
	 * @param admission whether this is not a request's end but its admission, recorded
	 * after the answer because its tenant has no limit to check (only {@code tenantId},
	 * {@code batch}, {@code requestId} and {@code reserved} are used)
	 */
	record Settlement(String tenantId, boolean batch, String requestId, long promptTokens, long completionTokens,
			String tier, String model, boolean record, long reserved, String month, boolean hosted, boolean admission) {

		/**
		 * A request's end.
		 */
		Settlement(String tenantId, boolean batch, String requestId, long promptTokens, long completionTokens,
				String tier, String model, boolean record, long reserved, String month, boolean hosted) {
			this(tenantId, batch, requestId, promptTokens, completionTokens, tier, model, record, reserved, month,
					hosted, false);
		}

		/**
		 * The admission of a request whose tenant has no limit to check: its lease and
		 * the charge of its reservation to the month.
		 * @param tenantId the tenant
		 * @param batch whether it is a batch item
		 * @param requestId the request's id in Redis
		 * @param reserved tokens reserved
		 * @return the entry
		 */
		static Settlement admission(String tenantId, boolean batch, String requestId, long reserved) {
			return new Settlement(tenantId, batch, requestId, 0, 0, "", "", false, reserved, null, false, true);
		}

	}

}
