package dev.tiergate.cost;

import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import dev.tiergate.tier.ReservePlacement;
import dev.tiergate.tier.Tier;
import dev.tiergate.tier.TierDefinition;
import dev.tiergate.tier.TierProperties;
import dev.tiergate.tier.Tiers;

/**
 * Everything a simulation needs besides the trace.
 *
 * @param fleet the fleet
 * @param tiers the tier definitions the scheduler runs with
 * @param ttftSlo per tier, the time to first token a request must beat to count as served
 * in time
 * @param enginePolicy how the engines order their waiting queues
 * @param preemptionBudget how many times the scheduler may preempt one request
 * @param prices the price sheet
 * @param assignment how requests without a tier get one
 * @param speed the time scaling of the trace
 * @param sweep the values the sweep tries
 * @param spill spill to the hosted API, or {@code null} for none (the fleet serves
 * everything)
 */
public record SimulationSettings(FleetSpec fleet, Map<Tier, TierDefinition> tiers, Map<Tier, Duration> ttftSlo,
		InferenceEngine.Policy enginePolicy, int preemptionBudget, PriceSheet prices, TierAssignment assignment,
		TimeScaling speed, Sweep sweep, SpillOption spill) {

	/** The article's target: P0's TTFT P99 under 200 ms; P1 2 s; P2 60 s. */
	public static final Map<Tier, Duration> DEFAULT_SLO = Map.of(Tier.P0, Duration.ofMillis(200), Tier.P1,
			Duration.ofSeconds(2), Tier.P2, Duration.ofSeconds(60));

	/**
	 * Validates the settings.
	 * @throws IllegalArgumentException naming what is wrong
	 */
	public SimulationSettings {
		if (fleet == null) {
			throw new IllegalArgumentException("fleet must be given");
		}
		tiers = new EnumMap<>((tiers == null) ? TierProperties.DEFAULTS : tiers);
		Tiers.validate(tiers);
		Map<Tier, Duration> slo = new EnumMap<>(DEFAULT_SLO);
		if (ttftSlo != null) {
			slo.putAll(ttftSlo);
		}
		slo.forEach((tier, target) -> {
			if (target == null || target.isNegative() || target.isZero()) {
				throw new IllegalArgumentException("ttftSlo." + tier + " must be a positive duration");
			}
		});
		ttftSlo = Map.copyOf(slo);
		tiers = Map.copyOf(tiers);
		enginePolicy = (enginePolicy == null) ? InferenceEngine.Policy.PRIORITY : enginePolicy;
		if (preemptionBudget < 0 || preemptionBudget > 100) {
			throw new IllegalArgumentException("preemptionBudget must be between 0 and 100, was " + preemptionBudget);
		}
		prices = (prices == null) ? PriceSheet.defaults() : prices;
		prices.gpuHourly(fleet.gpu());
		assignment = (assignment == null) ? TierAssignment.defaults() : assignment;
		speed = (speed == null) ? new TimeScaling(1) : speed;
		sweep = (sweep == null) ? Sweep.defaults(fleet.gpus()) : sweep;
	}

	/**
	 * Settings without spill.
	 * @param fleet the fleet
	 * @param tiers the tier definitions the scheduler runs with
	 * @param ttftSlo per tier, the time to first token a request must beat
	 * @param enginePolicy how the engines order their waiting queues
	 * @param preemptionBudget how many times the scheduler may preempt one request
	 * @param prices the price sheet
	 * @param assignment how requests without a tier get one
	 * @param speed the time scaling of the trace
	 * @param sweep the values the sweep tries
	 */
	public SimulationSettings(FleetSpec fleet, Map<Tier, TierDefinition> tiers, Map<Tier, Duration> ttftSlo,
			InferenceEngine.Policy enginePolicy, int preemptionBudget, PriceSheet prices, TierAssignment assignment,
			TimeScaling speed, Sweep sweep) {
		this(fleet, tiers, ttftSlo, enginePolicy, preemptionBudget, prices, assignment, speed, sweep, null);
	}

	/**
	 * Defaults for a fleet: Tiergate's default tiers, the article's SLO, priority
	 * scheduling in the engines, a preemption budget of 2, default prices and tier
	 * shares, real time, the default sweep.
	 * @param fleet the fleet
	 * @return the settings
	 */
	public static SimulationSettings defaults(FleetSpec fleet) {
		return new SimulationSettings(fleet, null, null, null, 2, null, null, null, null);
	}

	/**
	 * The same settings with another fleet.
	 * @param fleet the fleet
	 * @return the settings
	 */
	public SimulationSettings withFleet(FleetSpec fleet) {
		return new SimulationSettings(fleet, this.tiers, this.ttftSlo, this.enginePolicy, this.preemptionBudget,
				this.prices, this.assignment, this.speed, this.sweep, this.spill);
	}

	/**
	 * The same settings with another set of tiers.
	 * @param tiers the tier definitions
	 * @return the settings
	 */
	public SimulationSettings withTiers(Map<Tier, TierDefinition> tiers) {
		return new SimulationSettings(this.fleet, tiers, this.ttftSlo, this.enginePolicy, this.preemptionBudget,
				this.prices, this.assignment, this.speed, this.sweep, this.spill);
	}

	/**
	 * The same settings with other prices.
	 * @param prices the price sheet
	 * @return the settings
	 */
	public SimulationSettings withPrices(PriceSheet prices) {
		return new SimulationSettings(this.fleet, this.tiers, this.ttftSlo, this.enginePolicy, this.preemptionBudget,
				prices, this.assignment, this.speed, this.sweep, this.spill);
	}

	/**
	 * The same settings with spill to the hosted API.
	 * @param spill the spill option, or {@code null} for none
	 * @return the settings
	 */
	public SimulationSettings withSpill(SpillOption spill) {
		return new SimulationSettings(this.fleet, this.tiers, this.ttftSlo, this.enginePolicy, this.preemptionBudget,
				this.prices, this.assignment, this.speed, this.sweep, spill);
	}

	/**
	 * What the sweep tries: every combination of sharing replicas, P0 reserved share and
	 * GPU count; an empty list skips the sweep.
	 *
	 * @param replicas slices per GPU (1 means no sharing)
	 * @param p0Shares P0's reserved share
	 * @param gpuCounts GPU counts
	 * @param placements where P0's reserve lives; empty keeps the tiers' own
	 */
	public record Sweep(List<Integer> replicas, List<Double> p0Shares, List<Integer> gpuCounts,
			List<ReservePlacement> placements) {

		/**
		 * A sweep that keeps P0's placement as the tiers define it.
		 * @param replicas slices per GPU (1 means no sharing)
		 * @param p0Shares P0's reserved share
		 * @param gpuCounts GPU counts
		 */
		public Sweep(List<Integer> replicas, List<Double> p0Shares, List<Integer> gpuCounts) {
			this(replicas, p0Shares, gpuCounts, List.of());
		}

		/**
		 * Validates the sweep.
		 */
		public Sweep {
			placements = (placements != null) ? List.copyOf(placements) : List.of();
			replicas = List.copyOf(replicas);
			p0Shares = List.copyOf(p0Shares);
			gpuCounts = List.copyOf(gpuCounts);
			for (int r : replicas) {
				if (r < 1 || r > SliceShare.MAX_MPS_REPLICAS) {
					throw new IllegalArgumentException("sweep.replicas must be between 1 and 48, was " + r);
				}
			}
			for (double s : p0Shares) {
				if (!(s >= 0 && s <= 1)) {
					throw new IllegalArgumentException("sweep.p0Shares must be between 0 and 1, was " + s);
				}
			}
			for (int g : gpuCounts) {
				if (g < 1 || g > 100_000) {
					throw new IllegalArgumentException("sweep.gpuCounts must be between 1 and 100000, was " + g);
				}
			}
		}

		/**
		 * Replicas 1, 2, 4, 8; P0 share 0.1 to 0.5; half, the same and twice the GPUs;
		 * P0's reserve on slots and on whole endpoints.
		 * @param gpus the fleet's GPU count
		 * @return the sweep
		 */
		public static Sweep defaults(int gpus) {
			return new Sweep(List.of(1, 2, 4, 8), List.of(0.1, 0.2, 0.3, 0.4, 0.5),
					List.of(Math.max(1, gpus / 2), gpus, gpus * 2).stream().distinct().toList(),
					List.of(ReservePlacement.SLOTS, ReservePlacement.ENDPOINTS));
		}

		/**
		 * No sweep.
		 * @return an empty sweep
		 */
		public static Sweep none() {
			return new Sweep(List.of(), List.of(), List.of());
		}

		/**
		 * Whether there is anything to sweep.
		 * @return {@code true} when every list has a value
		 */
		public boolean enabled() {
			return !this.replicas.isEmpty() && !this.p0Shares.isEmpty() && !this.gpuCounts.isEmpty();
		}

	}

}
