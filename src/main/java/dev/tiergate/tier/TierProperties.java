package dev.tiergate.tier;

import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.Set;

import jakarta.validation.Valid;
import jakarta.validation.constraints.DecimalMax;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.ConstructorBinding;
import org.springframework.validation.annotation.Validated;

/**
 * Tier definitions at start, as overrides of the built-in defaults: P0 real-time keeps
 * 30% of every pool and may preempt P2; P1 may preempt P2 and borrow idle reserved slots;
 * P2 batch borrows and is never queued out quickly. Operators change tiers at run time
 * through {@code /api/v1/tiers}.
 *
 * @param p0 fields of P0 to override, e.g. {@code tiergate.tiers.P0.reserved-share=0.4};
 * none by default
 * @param p1 fields of P1 to override; none by default
 * @param p2 fields of P2 to override; none by default
 */
@ConfigurationProperties("tiergate.tiers")
@Validated
public record TierProperties(@Valid Override p0, @Valid Override p1, @Valid Override p2) {

	/** The built-in definitions. */
	public static final Map<Tier, TierDefinition> DEFAULTS = Map.of(Tier.P0,
			new TierDefinition(0.30, 1_000, Duration.ofSeconds(2), Set.of(Tier.P2), false,
					new TierDefinition.PriorityClassSpec("realtime-inference", 1_000_000, "PreemptLowerPriority")),
			Tier.P1,
			new TierDefinition(0.0, 5_000, Duration.ofSeconds(10), Set.of(Tier.P2), true,
					new TierDefinition.PriorityClassSpec("near-realtime-inference", 10_000, "PreemptLowerPriority")),
			Tier.P2, new TierDefinition(0.0, 100_000, Duration.ofMinutes(10), Set.of(), true,
					new TierDefinition.PriorityClassSpec("batch-inference", 100, "Never")));

	/**
	 * The definitions in force at start: defaults with the configured overrides applied.
	 * @return one definition per tier
	 */
	public Map<Tier, TierDefinition> effective() {
		Map<Tier, TierDefinition> result = new EnumMap<>(Tier.class);
		for (Tier tier : Tier.values()) {
			Override override = switch (tier) {
				case P0 -> this.p0;
				case P1 -> this.p1;
				case P2 -> this.p2;
			};
			result.put(tier, (override != null) ? override.applyTo(DEFAULTS.get(tier)) : DEFAULTS.get(tier));
		}
		return result;
	}

	/**
	 * Fields of a tier to change; {@code null} keeps the current value.
	 *
	 * @param reservedShare share of slots reserved for the tier
	 * @param maxQueueDepth most waiting requests per pool
	 * @param maxQueueWait longest wait for a slot
	 * @param mayPreempt tiers it may preempt
	 * @param borrow whether it may borrow idle reserved slots
	 * @param priorityClass its PriorityClass
	 * @param reservePlacement where its reserve lives: {@code slots} (spread over every
	 * endpoint) or {@code endpoints} (whole endpoints of its own)
	 * @param borrowPerEndpoint with {@code endpoints} placement, the most lower-tier
	 * sequences on each of its endpoints (default 2)
	 */
	public record Override(@DecimalMin("0.0") @DecimalMax("1.0") Double reservedShare,
			@Min(1) @Max(10_000_000) Integer maxQueueDepth, Duration maxQueueWait, Set<Tier> mayPreempt, Boolean borrow,
			PriorityClassOverride priorityClass, ReservePlacement reservePlacement,
			@Min(0) @Max(1024) Integer borrowPerEndpoint) {

		/**
		 * The constructor that binds {@code tiergate.tiers.P0.*}: without the mark a
		 * record with two constructors is not bound at all (the override stayed
		 * {@code null}).
		 */
		@ConstructorBinding
		public Override {
		}

		/**
		 * Fields to change, placement kept.
		 * @param reservedShare share of slots reserved for the tier
		 * @param maxQueueDepth most waiting requests per pool
		 * @param maxQueueWait longest wait for a slot
		 * @param mayPreempt tiers it may preempt
		 * @param borrow whether it may borrow idle reserved slots
		 * @param priorityClass its PriorityClass
		 */
		public Override(Double reservedShare, Integer maxQueueDepth, Duration maxQueueWait, Set<Tier> mayPreempt,
				Boolean borrow, PriorityClassOverride priorityClass) {
			this(reservedShare, maxQueueDepth, maxQueueWait, mayPreempt, borrow, priorityClass, null, null);
		}

		/**
		 * This override applied to a definition.
		 * @param base the current definition
		 * @return the changed definition
		 */
		public TierDefinition applyTo(TierDefinition base) {
			TierDefinition.PriorityClassSpec pc = base.priorityClass();
			if (this.priorityClass != null) {
				pc = new TierDefinition.PriorityClassSpec(
						(this.priorityClass.name() != null) ? this.priorityClass.name() : pc.name(),
						(this.priorityClass.value() != null) ? this.priorityClass.value() : pc.value(),
						(this.priorityClass.preemptionPolicy() != null) ? this.priorityClass.preemptionPolicy()
								: pc.preemptionPolicy());
			}
			return new TierDefinition((this.reservedShare != null) ? this.reservedShare : base.reservedShare(),
					(this.maxQueueDepth != null) ? this.maxQueueDepth : base.maxQueueDepth(),
					(this.maxQueueWait != null) ? this.maxQueueWait : base.maxQueueWait(),
					(this.mayPreempt != null) ? this.mayPreempt : base.mayPreempt(),
					(this.borrow != null) ? this.borrow : base.borrow(), pc,
					(this.reservePlacement != null) ? this.reservePlacement : base.reservePlacement(),
					(this.borrowPerEndpoint != null) ? this.borrowPerEndpoint : base.borrowPerEndpoint());
		}

	}

	/**
	 * PriorityClass fields to change.
	 *
	 * @param name class name
	 * @param value priority value
	 * @param preemptionPolicy {@code PreemptLowerPriority} or {@code Never}
	 */
	public record PriorityClassOverride(String name, Long value, String preemptionPolicy) {
	}

}
