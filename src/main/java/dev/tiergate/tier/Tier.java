package dev.tiergate.tier;

import java.util.Locale;
import java.util.Optional;

/**
 * A priority tier, shared by all three scheduling layers. Lower ordinal is more urgent.
 */
public enum Tier {

	/** Real-time, user-facing requests. */
	P0,

	/** Near-real-time requests. */
	P1,

	/** Batch work that fills idle capacity. */
	P2;

	/**
	 * Parses a tier name, ignoring case and surrounding blanks.
	 * @param value text such as {@code "p0"}
	 * @return the tier, or empty when the text names none
	 */
	public static Optional<Tier> parse(String value) {
		if (value == null) {
			return Optional.empty();
		}
		return switch (value.strip().toUpperCase(Locale.ROOT)) {
			case "P0" -> Optional.of(P0);
			case "P1" -> Optional.of(P1);
			case "P2" -> Optional.of(P2);
			default -> Optional.empty();
		};
	}

	/**
	 * The value of vLLM's {@code priority} request field for this tier (lower is served
	 * first).
	 * @return the engine priority
	 */
	public int enginePriority() {
		return ordinal();
	}

}
