package dev.tiergate.tier;

import java.util.Collections;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tier definitions in force. Reads are lock-free (an immutable snapshot); a change is
 * validated as a whole and then replaces the snapshot, so no reader ever sees half of
 * one.
 * <p>
 * With a {@link TierSettingsStore} ({@link #attach}), the store is the source: at start
 * the stored definitions replace the ones given (which only seed the store when it holds
 * none), a change is written to the store before it is in force here, and every change
 * seen in the store (another replica's, a kubectl edit) is applied. A stored document
 * that breaks a rule is refused: the last good definitions stay in force and the refusal
 * is kept ({@link #rejection()}) and reported to the store, until a valid document
 * follows.
 */
public class Tiers {

	private static final Logger logger = LoggerFactory.getLogger(Tiers.class);

	/** Largest PriorityClass value a user-defined class may have. */
	public static final long MAX_PRIORITY_VALUE = 1_000_000_000L;

	private static final Pattern DNS_SUBDOMAIN = Pattern
		.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

	private static final Set<String> POLICIES = Set.of("PreemptLowerPriority", "Never");

	private volatile Map<Tier, TierDefinition> current;

	private final List<Consumer<Map<Tier, TierDefinition>>> listeners = new CopyOnWriteArrayList<>();

	private volatile TierSettingsStore store;

	private volatile String revision;

	private volatile Rejection rejection;

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
		TierSettingsStore target = this.store;
		if (target != null) {
			TierSettingsStore.Stored stored = target.save(TierDocument.write(next));
			this.revision = stored.revision();
			this.rejection = null;
		}
		replace(next);
		return this.current;
	}

	private void replace(Map<Tier, TierDefinition> next) {
		if (next.equals(this.current)) {
			return;
		}
		this.current = Collections.unmodifiableMap(new EnumMap<>(next));
		this.listeners.forEach((l) -> l.accept(this.current));
	}

	/**
	 * Makes a store the source of the definitions: applies what it holds (or seeds it
	 * with the definitions in force when it holds none) and every change it reports. A
	 * store that cannot be reached now leaves the definitions as they are until its first
	 * report.
	 * @param settings the store
	 */
	public void attach(TierSettingsStore settings) {
		synchronized (this) {
			this.store = settings;
		}
		try {
			TierSettingsStore.Stored stored = settings.load()
				.orElseGet(() -> settings.createIfAbsent(TierDocument.write(this.current)));
			apply(stored);
		}
		catch (RuntimeException ex) {
			logger.warn("Cannot read the tier definitions from {} yet; using the configured ones until it answers: {}",
					settings.describe(), ex.getMessage());
		}
		settings.watch(this::apply);
	}

	/**
	 * Applies a document seen in the store, or refuses it.
	 * @param stored the stored document
	 */
	synchronized void apply(TierSettingsStore.Stored stored) {
		if (stored.revision() != null && stored.revision().equals(this.revision)) {
			return;
		}
		Map<Tier, TierDefinition> next;
		try {
			next = TierDocument.read(stored.document());
		}
		catch (InvalidTierException ex) {
			// The message names the field first, e.g. "P0.reservedShare: must be ...".
			Rejection refused = new Rejection(stored.revision(), ex.getMessage());
			boolean first = this.rejection == null || !refused.equals(this.rejection);
			this.rejection = refused;
			this.revision = stored.revision();
			if (first) {
				logger.warn("Refused revision {} of the tier definitions in {}, keeping the last good ones: {}",
						stored.revision(), this.store.describe(), refused.reason());
				try {
					this.store.rejected(stored, refused.reason());
				}
				catch (RuntimeException reportFailed) {
					logger.warn("Could not report the refused tier definitions: {}", reportFailed.getMessage());
				}
			}
			return;
		}
		this.revision = stored.revision();
		this.rejection = null;
		replace(next);
	}

	/**
	 * The revision of the stored definitions last applied or refused.
	 * @return the revision, or empty without a store (or before it answered)
	 */
	public Optional<String> revision() {
		return Optional.ofNullable(this.revision);
	}

	/**
	 * The stored revision refused last, while no valid one has followed it.
	 * @return the refusal, or empty when the store's latest revision is in force
	 */
	public Optional<Rejection> rejection() {
		return Optional.ofNullable(this.rejection);
	}

	/**
	 * Where the definitions are kept.
	 * @return the store's description, or {@code memory}
	 */
	public String storage() {
		TierSettingsStore current = this.store;
		return (current != null) ? current.describe() : "memory";
	}

	/**
	 * A stored revision of the tier definitions that was refused.
	 *
	 * @param revision the store's revision
	 * @param reason the field at fault and why
	 */
	public record Rejection(String revision, String reason) {
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
