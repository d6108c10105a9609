package dev.tiergate.tier;

import java.util.Collections;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * The tier definitions in force. Reads are lock-free (an immutable snapshot); a change is
 * validated as a whole and then replaces the snapshot, so no reader ever sees half of
 * one.
 */
public class Tiers {

	/** Largest PriorityClass value a user-defined class may have. */
	public static final long MAX_PRIORITY_VALUE = 1_000_000_000L;

	private static final Pattern DNS_SUBDOMAIN = Pattern
		.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

	private static final Set<String> POLICIES = Set.of("PreemptLowerPriority", "Never");

	private volatile Map<Tier, TierDefinition> current;

	private final List<Consumer<Map<Tier, TierDefinition>>> listeners = new CopyOnWriteArrayList<>();

	public Tiers(Map<Tier, TierDefinition> initial) {
		validate(initial);
		this.current = Collections.unmodifiableMap(new EnumMap<>(initial));
	}

	/**
	 * The definition of one tier.
	 * @param tier the tier
	 * @return its definition
	 */
	public TierDefinition get(Tier tier) {
		return this.current.get(tier);
	}

	/**
	 * The tier whose PriorityClass has this name.
	 * @param priorityClass a class name, or {@code null}
	 * @return {@code P0}..., or {@code null} if no tier uses the class
	 */
	public String tierOfPriorityClass(String priorityClass) {
		for (Map.Entry<Tier, TierDefinition> entry : this.current.entrySet()) {
			if (entry.getValue().priorityClass().name().equals(priorityClass)) {
				return entry.getKey().name();
			}
		}
		return null;
	}

	/**
	 * All definitions.
	 * @return an immutable snapshot, ordered P0, P1, P2
	 */
	public Map<Tier, TierDefinition> all() {
		return this.current;
	}

	/**
	 * Applies changes to some tiers, all or nothing.
	 * @param changes per tier, the fields to change
	 * @return the definitions now in force
	 * @throws InvalidTierException if the result would break a rule
	 */
	public synchronized Map<Tier, TierDefinition> update(Map<Tier, TierProperties.Override> changes) {
		Map<Tier, TierDefinition> next = new EnumMap<>(this.current);
		changes.forEach((tier, change) -> {
			if (change != null) {
				next.put(tier, change.applyTo(next.get(tier)));
			}
		});
		validate(next);
		this.current = Collections.unmodifiableMap(next);
		this.listeners.forEach((l) -> l.accept(this.current));
		return this.current;
	}

	/**
	 * Registers a callback for changes.
	 * @param listener receives the new definitions after every change
	 */
	public void onChange(Consumer<Map<Tier, TierDefinition>> listener) {
		this.listeners.add(listener);
	}

	/**
	 * Checks the rules every set of tier definitions must keep.
	 * @param tiers one definition per tier
	 * @throws InvalidTierException naming the first field that breaks a rule
	 */
	public static void validate(Map<Tier, TierDefinition> tiers) {
		double shares = 0;
		Set<String> names = new HashSet<>();
		for (Tier tier : Tier.values()) {
			TierDefinition definition = tiers.get(tier);
			if (definition == null) {
				throw new InvalidTierException(tier.name(), "is missing");
			}
			String at = tier.name() + ".";
			if (!(definition.reservedShare() >= 0 && definition.reservedShare() <= 1)) {
				throw new InvalidTierException(at + "reservedShare", "must be between 0 and 1");
			}
			shares += definition.reservedShare();
			if (definition.maxQueueDepth() < 1 || definition.maxQueueDepth() > 10_000_000) {
				throw new InvalidTierException(at + "maxQueueDepth", "must be between 1 and 10000000");
			}
			if (definition.maxQueueWait() == null || definition.maxQueueWait().isNegative()
					|| definition.maxQueueWait().isZero()) {
				throw new InvalidTierException(at + "maxQueueWait", "must be a positive duration");
			}
			for (Tier victim : definition.mayPreempt()) {
				if (victim == null || victim.ordinal() <= tier.ordinal()) {
					throw new InvalidTierException(at + "mayPreempt",
							"a tier may preempt only lower tiers, not itself or a higher one (" + victim + ")");
				}
			}
			TierDefinition.PriorityClassSpec pc = definition.priorityClass();
			if (pc == null || pc.name() == null || pc.name().length() > 253
					|| !DNS_SUBDOMAIN.matcher(pc.name()).matches()) {
				throw new InvalidTierException(at + "priorityClass.name", "must be a DNS subdomain name");
			}
			if (pc.name().startsWith("system-")) {
				throw new InvalidTierException(at + "priorityClass.name", "names starting with 'system-' are reserved");
			}
			if (!names.add(pc.name())) {
				throw new InvalidTierException(at + "priorityClass.name", "is used by another tier");
			}
			if (pc.value() > MAX_PRIORITY_VALUE || pc.value() < -2_147_483_648L) {
				throw new InvalidTierException(at + "priorityClass.value",
						"must be at most " + MAX_PRIORITY_VALUE + " (and at least -2147483648)");
			}
			if (!POLICIES.contains(pc.preemptionPolicy())) {
				throw new InvalidTierException(at + "priorityClass.preemptionPolicy",
						"must be PreemptLowerPriority or Never");
			}
			if (definition.borrowPerEndpoint() < 0 || definition.borrowPerEndpoint() > 1024) {
				throw new InvalidTierException(at + "borrowPerEndpoint", "must be between 0 and 1024");
			}
		}
		if (shares > 1.0 + 1e-9) {
			throw new InvalidTierException("reservedShare", "reserved shares sum to " + shares + ", more than 1");
		}
		for (Tier tier : Tier.values()) {
			if (tier.ordinal() > 0 && tiers.get(tier)
				.priorityClass()
				.value() >= tiers.get(Tier.values()[tier.ordinal() - 1]).priorityClass().value()) {
				throw new InvalidTierException(tier.name() + ".priorityClass.value",
						"must be lower than the value of the tier above it");
			}
		}
	}

}
