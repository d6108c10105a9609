package dev.tiergate.cost;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import dev.tiergate.tier.Tier;

/**
 * How requests of a trace get their tier: by tenant when the tenant is listed, else by a
 * share per tier drawn with a seeded random generator (the same seed gives the same
 * tiers). A request that already has a tier (Tiergate's own log) keeps it unless
 * {@code override} is set.
 *
 * @param shares the share of requests per tier, summing to 1
 * @param byTenant tier per tenant, taking precedence over the shares
 * @param override whether tiers already in the trace are replaced
 * @param seed the random seed
 */
public record TierAssignment(Map<Tier, Double> shares, Map<String, Tier> byTenant, boolean override, long seed) {

	/** 20% P0, 30% P1, 50% P2. */
	public static final Map<Tier, Double> DEFAULT_SHARES = Map.of(Tier.P0, 0.2, Tier.P1, 0.3, Tier.P2, 0.5);

	/**
	 * Validates the assignment.
	 * @throws IllegalArgumentException naming what is wrong
	 */
	public TierAssignment {
		shares = (shares == null || shares.isEmpty()) ? DEFAULT_SHARES : Map.copyOf(shares);
		byTenant = (byTenant == null) ? Map.of() : Map.copyOf(byTenant);
		double sum = 0;
		for (Map.Entry<Tier, Double> share : shares.entrySet()) {
			if (share.getValue() == null || !(share.getValue() >= 0 && share.getValue() <= 1)) {
				throw new IllegalArgumentException(
						"shares." + share.getKey() + " must be between 0 and 1, was " + share.getValue());
			}
			sum += share.getValue();
		}
		if (Math.abs(sum - 1) > 1e-6) {
			throw new IllegalArgumentException("shares must sum to 1, sum to " + sum);
		}
	}

	/**
	 * The default: 20% P0, 30% P1, 50% P2, seed 42.
	 * @return the assignment
	 */
	public static TierAssignment defaults() {
		return new TierAssignment(DEFAULT_SHARES, Map.of(), false, 42);
	}

	/**
	 * Parses shares such as {@code P0=0.2,P1=0.3,P2=0.5}.
	 * @param text the shares
	 * @return the shares
	 * @throws IllegalArgumentException naming what is wrong
	 */
	public static Map<Tier, Double> parseShares(String text) {
		Map<Tier, Double> shares = new EnumMap<>(Tier.class);
		for (String part : text.split(",")) {
			String[] pair = part.split("=", 2);
			Tier tier = Tier.parse(pair[0])
				.orElseThrow(() -> new IllegalArgumentException(
						"tier shares: unknown tier '" + pair[0].strip() + "' (expected P0=0.2,P1=0.3,P2=0.5)"));
			try {
				shares.put(tier, Double.parseDouble((pair.length > 1) ? pair[1].strip() : ""));
			}
			catch (NumberFormatException ex) {
				throw new IllegalArgumentException("tier shares: " + tier + " needs a number (P0=0.2,P1=0.3,P2=0.5)");
			}
		}
		return shares;
	}

	/**
	 * Gives every request of the trace a tier.
	 * @param trace the trace
	 * @return the trace with every request tiered
	 */
	public Trace apply(Trace trace) {
		Random random = new Random(this.seed);
		Tier[] tiers = Tier.values();
		List<TraceRequest> tiered = new ArrayList<>(trace.requests().size());
		for (TraceRequest request : trace.requests()) {
			double roll = random.nextDouble();
			if (request.tier() != null && !this.override) {
				tiered.add(request);
				continue;
			}
			Tier tier = (request.tenant() != null) ? this.byTenant.get(request.tenant()) : null;
			if (tier == null) {
				double cumulative = 0;
				tier = tiers[tiers.length - 1];
				for (Tier candidate : tiers) {
					cumulative += this.shares.getOrDefault(candidate, 0.0);
					if (roll < cumulative) {
						tier = candidate;
						break;
					}
				}
			}
			tiered.add(request.withTier(tier));
		}
		return trace.withRequests(tiered);
	}

}
