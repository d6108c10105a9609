package dev.tiergate.tier;

import java.util.Locale;
import java.util.Optional;

/**
 * Where a tier's reserved share of a pool lives.
 */
public enum ReservePlacement {

	/**
	 * {@code ceil(reservedShare x slots)} slots counted over the whole pool: the tier's
	 * requests run on any endpoint, next to whatever else runs there.
	 */
	SLOTS,

	/**
	 * {@code ceil(reservedShare x endpoints)} whole endpoints are the tier's (chosen
	 * stably, spread over nodes); lower tiers run at most {@code borrowPerEndpoint}
	 * sequences on each of them and are preempted there first; the tier's requests go to
	 * its own endpoints first and spill to shared ones only when those are full.
	 */
	ENDPOINTS;

	/**
	 * The name as the API and properties write it.
	 * @return {@code slots} or {@code endpoints}
	 */
	public String value() {
		return name().toLowerCase(Locale.ROOT);
	}

	/**
	 * Parses {@code slots} or {@code endpoints} (any case).
	 * @param value the text
	 * @return the placement, empty when unknown
	 */
	public static Optional<ReservePlacement> parse(String value) {
		for (ReservePlacement placement : values()) {
			if (placement.name().equalsIgnoreCase(value)) {
				return Optional.of(placement);
			}
		}
		return Optional.empty();
	}

}
