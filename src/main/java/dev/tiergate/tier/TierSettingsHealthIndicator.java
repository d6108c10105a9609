package dev.tiergate.tier;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * Where the tier definitions come from, which stored revision is in force, and a refused
 * one. It stays {@code UP} when a stored revision was refused: the replica serves with
 * the last good definitions, and every replica refuses the same document, so taking them
 * out of service would turn one bad edit into an outage. The refusal shows here (details
 * {@code rejectedRevision}, {@code rejectedReason}), on the Tiers page and as a
 * Kubernetes Event.
 */
class TierSettingsHealthIndicator implements HealthIndicator {

	private final Tiers tiers;

	TierSettingsHealthIndicator(Tiers tiers) {
		this.tiers = tiers;
	}

	@Override
	public Health health() {
		Health.Builder health = Health.up().withDetail("storage", this.tiers.storage());
		this.tiers.revision().ifPresent((revision) -> health.withDetail("revision", revision));
		this.tiers.rejection()
			.ifPresent((rejection) -> health.withDetail("rejectedRevision", rejection.revision())
				.withDetail("rejectedReason", rejection.reason()));
		return health.build();
	}

}
