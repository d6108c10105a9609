package dev.tiergate.spill;

/**
 * Whether a tier's requests may go to a hosted upstream.
 */
public enum SpillMode {

	/** Never: a request waits for the fleet, or is turned away as before. */
	NEVER,

	/**
	 * When the fleet is saturated: a request still without a slot after its tier's
	 * {@code spill-after} goes to the hosted upstream, within the spend cap.
	 */
	WHEN_SATURATED

}
