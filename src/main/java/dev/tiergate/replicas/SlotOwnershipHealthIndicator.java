package dev.tiergate.replicas;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * Part of readiness: down while a replica that shares slots has not yet held its share of
 * every pool ({@link SlotOwnership#waitingFor()}), so that a replica joining its fleet (a
 * rolling restart, a scale-up) is sent requests only once it can start them. Up at once
 * when slot sharing is off: a single replica owns every slot.
 */
class SlotOwnershipHealthIndicator implements HealthIndicator {

	private final SlotOwnership ownership;

	/**
	 * The indicator.
	 * @param ownership the replica's slot ownership, {@code null} when slots are not
	 * shared
	 */
	SlotOwnershipHealthIndicator(SlotOwnership ownership) {
		this.ownership = ownership;
	}

	@Override
	public Health health() {
		if (this.ownership == null) {
			return Health.up().withDetail("replicas", "off: this replica owns every slot").build();
		}
		String waiting = this.ownership.waitingFor();
		if (waiting != null) {
			return Health.down().withDetail("waitingFor", waiting).build();
		}
		return Health.up()
			.withDetail("ownedSlots", this.ownership.ownedByPool())
			.withDetail("fenced", this.ownership.fenced())
			.build();
	}

}
