package dev.tiergate.quota;

import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

import dev.tiergate.tier.Tier;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;

/**
 * Quota enforcement settings.
 *
 * @param leaseTtl how long a concurrency lease lives without renewal; a running request
 * renews it every third of this, so a crashed replica's leases expire after at most this
 * long
 * @param keyCacheTtl how long a replica trusts what it read of an API key (its tenant,
 * limits and tiers) before reading it from Redis again; a change made through any replica
 * is heard by all at once (Redis pub/sub), so this bounds staleness only when that
 * message is lost; {@code 0} reads every request's key from Redis
 * @param failureThreshold consecutive Redis failures that open the quota circuit
 * @param openFor how long the open circuit sends no call to Redis before one probe tries
 * again
 * @param halfOpenTimeout longest the probe may take to report back; then the circuit
 * opens again (and {@code openFor} later lets a new probe through), so a probe that never
 * reports cannot hold it half-open
 * @param retryAfter the {@code Retry-After} of a 503 {@code quota_unavailable}
 * @param outagePolicy per tier, what happens while Redis is unavailable:
 * {@code fail-open} serves under a local per-replica limiter with the same limits,
 * {@code fail-closed} answers 503; default P0 open, P1 and P2 closed
 * @param journalCapacity most settlements (ends of requests) journaled in a replica's
 * memory while Redis is unavailable, replayed once when it answers again; past it the
 * oldest are dropped
 * @param settlementBatch most ends of requests settled in one Redis call: a request hands
 * its settlement to a settling thread and answers without waiting for Redis, and that
 * thread applies what ended meanwhile together, one call per tenant; {@code 0} settles
 * each request on its own thread before it answers
 * @param settlementLinger how long the settling thread, woken after an idle moment, lets
 * the first request end wait for others before its Redis call (cut short by a full batch
 * or a reader that needs the settlements); {@code 0} sends it at once. Under light
 * traffic this turns a Redis call per request into one per linger; at the maximum rate
 * the batches fill without it
 */
@Validated
@ConfigurationProperties("tiergate.quota")
public record QuotaProperties(@DefaultValue("30s") @NotNull Duration leaseTtl,
		@DefaultValue("1s") @NotNull Duration keyCacheTtl, @DefaultValue("3") @Min(1) @Max(1000) int failureThreshold,
		@DefaultValue("1s") @NotNull Duration openFor, @DefaultValue("5s") @NotNull Duration halfOpenTimeout,
		@DefaultValue("1s") @NotNull Duration retryAfter, @DefaultValue Map<Tier, OutagePolicy> outagePolicy,
		@DefaultValue("100000") @Min(1) int journalCapacity,
		@DefaultValue("256") @Min(0) @Max(10_000) int settlementBatch,
		@DefaultValue("5ms") @NotNull Duration settlementLinger) {

	public QuotaProperties {
		if (settlementLinger != null && (settlementLinger.isNegative() || settlementLinger.toMillis() > 1000)) {
			throw new IllegalArgumentException(
					"tiergate.quota.settlement-linger must be between 0 and 1s, not " + settlementLinger);
		}
		Map<Tier, OutagePolicy> policies = new EnumMap<>(Tier.class);
		policies.put(Tier.P0, OutagePolicy.FAIL_OPEN);
		policies.put(Tier.P1, OutagePolicy.FAIL_CLOSED);
		policies.put(Tier.P2, OutagePolicy.FAIL_CLOSED);
		if (outagePolicy != null) {
			policies.putAll(outagePolicy);
		}
		outagePolicy = Map.copyOf(policies);
	}

	/**
	 * The defaults.
	 * @return properties as if nothing were configured
	 */
	public static QuotaProperties defaults() {
		return new QuotaProperties(Duration.ofSeconds(30), Duration.ofSeconds(1), 3, Duration.ofSeconds(1),
				Duration.ofSeconds(5), Duration.ofSeconds(1), Map.of(), 100_000, 256, Duration.ofMillis(5));
	}

	/**
	 * What a tier does while Redis is unavailable.
	 */
	public enum OutagePolicy {

		/** Serve under a local per-replica limiter with the tenant's limits. */
		FAIL_OPEN,

		/** Refuse with 503 {@code quota_unavailable}. */
		FAIL_CLOSED

	}

}
