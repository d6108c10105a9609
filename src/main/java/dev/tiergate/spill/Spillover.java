package dev.tiergate.spill;

import java.time.Duration;
import java.util.Optional;

import dev.tiergate.cost.PriceSheet;
import dev.tiergate.cost.PriceSheets;
import dev.tiergate.tier.Tier;

/**
 * Decides whether a request may spill and on what terms: its model has a hosted upstream,
 * its tier's policy allows it, and a spend cap is set. Batch items never ask.
 */
public class Spillover {

	private final SpillProperties properties;

	private final PriceSheets prices;

	private final SpillBudget budget;

	private final HostedClient client;

	private final SpillMetrics metrics;

	/**
	 * The spill feature's face.
	 * @param properties the settings
	 * @param prices the price sheet in force (hosted prices)
	 * @param budget the spend counters
	 * @param client the hosted client
	 * @param metrics the meters
	 */
	public Spillover(SpillProperties properties, PriceSheets prices, SpillBudget budget, HostedClient client,
			SpillMetrics metrics) {
		this.properties = properties;
		this.prices = prices;
		this.budget = budget;
		this.client = client;
		this.metrics = metrics;
	}

	/**
	 * The terms on which an online request may spill.
	 * @param model the model asked for
	 * @param tier its tier
	 * @param tenant the tenant id
	 * @param promptTokens the prompt's estimated tokens
	 * @param maxTokens the most tokens it may generate
	 * @return the plan, or empty when the request must wait for the fleet
	 */
	public Optional<Plan> plan(String model, Tier tier, String tenant, long promptTokens, long maxTokens) {
		SpillProperties.Upstream upstream = this.properties.upstreams().get(model);
		SpillProperties.TierSpill policy = this.properties.tier(tier);
		// The caps are not read here (they live in Redis, read by the reservation): a
		// cap of 0 refuses the reservation, so nothing spills.
		if (upstream == null || !policy.spills()) {
			return Optional.empty();
		}
		PriceSheet.HostedPrice price = this.prices.current().hostedPrice(model);
		return Optional.of(new Plan(model, tier, tenant, upstream, policy.spillAfter(), price,
				price.cost(promptTokens, maxTokens)));
	}

	/**
	 * The spend counters.
	 * @return the budget
	 */
	public SpillBudget budget() {
		return this.budget;
	}

	/**
	 * The hosted client.
	 * @return the client
	 */
	public HostedClient client() {
		return this.client;
	}

	/**
	 * The meters.
	 * @return the metrics
	 */
	public SpillMetrics metrics() {
		return this.metrics;
	}

	/**
	 * The settings.
	 * @return the properties
	 */
	public SpillProperties properties() {
		return this.properties;
	}

	/**
	 * How one request would spill.
	 *
	 * @param model the model callers use
	 * @param tier the tier
	 * @param tenant the tenant id
	 * @param upstream the hosted upstream
	 * @param spillAfter how long it waits for the fleet first
	 * @param price the hosted price
	 * @param maxCost its largest cost (prompt plus every token it may generate), US
	 * dollars: what is reserved
	 */
	public record Plan(String model, Tier tier, String tenant, SpillProperties.Upstream upstream, Duration spillAfter,
			PriceSheet.HostedPrice price, double maxCost) {

		/**
		 * What an answer with this usage costs at the hosted price.
		 * @param promptTokens prompt tokens
		 * @param completionTokens completion tokens
		 * @return US dollars
		 */
		public double cost(long promptTokens, long completionTokens) {
			return this.price.cost(promptTokens, completionTokens);
		}

	}

}
