package dev.tiergate.replicas;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

import jakarta.validation.constraints.AssertTrue;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;

/**
 * Slot ownership across replicas ({@code tiergate.replicas}).
 *
 * @param enabled whether this replica shares the endpoints' slots with the other replicas
 * of its fleet through Redis; off (the default), it owns every slot, as a single replica
 * must
 * @param fleet the fleet's name: the replicas that share one set of endpoints (part of
 * every Redis key, as a hash tag)
 * @param heartbeatTtl how long a replica's heartbeat lasts: a replica not heard of for
 * this long is dead and its slots go to the others
 * @param syncInterval how often each replica publishes its demand and recomputes
 * ownership (well under the heartbeat TTL)
 * @param demandWindow a replica's demand is the peak of its samples over this window
 * @param minShare slots of every pool each live replica gets before demand counts (so an
 * idle replica can start a P0 request at once), when the pool has enough
 * @param readyWithin longest a starting replica's readiness waits for its first slots of
 * every pool (the others hand a slot over only when their leases on it end): after it,
 * the replica is ready anyway, so that one pool held by long streams does not stall a
 * rolling update, and answers that pool's requests 503 {@code no_capacity} until a slot
 * moves to it
 */
@Validated
@ConfigurationProperties("tiergate.replicas")
public record ReplicasProperties(@DefaultValue("false") boolean enabled,
		@DefaultValue("tiergate") @NotNull @Pattern(regexp = "[A-Za-z0-9._-]{1,63}") String fleet,
		@DefaultValue("3s") @NotNull Duration heartbeatTtl, @DefaultValue("300ms") @NotNull Duration syncInterval,
		@DefaultValue("2s") @NotNull Duration demandWindow, @DefaultValue("1") @Min(0) int minShare,
		@DefaultValue("60s") @NotNull Duration readyWithin) {

	/**
	 * A replica fences itself (starts no new request) when it could not sync for this
	 * long: before its heartbeat can have expired in Redis and its slots gone to others.
	 * @return the heartbeat TTL less two sync intervals
	 */
	public Duration fenceAfter() {
		return this.heartbeatTtl.minus(this.syncInterval.multipliedBy(2));
	}

	@AssertTrue(message = "tiergate.replicas.ready-within must be positive")
	boolean isReadyWithinPositive() {
		return this.readyWithin == null || (!this.readyWithin.isNegative() && !this.readyWithin.isZero());
	}

	@AssertTrue(message = "tiergate.replicas.sync-interval must be at most a quarter of heartbeat-ttl")
	boolean isSyncIntervalShortEnough() {
		return this.syncInterval == null || this.heartbeatTtl == null || (!this.syncInterval.isNegative()
				&& !this.syncInterval.isZero() && this.syncInterval.multipliedBy(4).compareTo(this.heartbeatTtl) <= 0);
	}

}
