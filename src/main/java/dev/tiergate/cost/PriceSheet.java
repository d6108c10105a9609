package dev.tiergate.cost;

import java.util.Map;

/**
 * What things cost: the hosted API each model would otherwise be bought from, GPUs by the
 * hour, and a fixed monthly overhead of running the fleet.
 *
 * @param hosted hosted-API prices per model name; {@code "*"} applies to models not
 * listed
 * @param gpuHourly US dollars per GPU-hour, per GPU product
 * @param monthlyOverhead fixed US dollars a month (operations, networking, storage), zero
 * or more
 * @param source where the defaults come from, and when they were taken
 */
public record PriceSheet(Map<String, HostedPrice> hosted, Map<String, Double> gpuHourly, double monthlyOverhead,
		String source) {

	/** The key of the hosted price for models not listed. */
	public static final String ANY_MODEL = "*";

	/**
	 * Validates the sheet.
	 * @throws IllegalArgumentException naming the field that is wrong
	 */
	public PriceSheet {
		if (hosted == null || hosted.isEmpty()) {
			throw new IllegalArgumentException("hosted must give at least one model's price");
		}
		hosted.forEach((model, price) -> {
			if (model == null || model.isBlank()) {
				throw new IllegalArgumentException("hosted: model names must not be blank");
			}
			if (price == null) {
				throw new IllegalArgumentException(
						"hosted." + model + " must give inputPerMillion and outputPerMillion");
			}
			requirePrice("hosted." + model + ".inputPerMillion", price.inputPerMillion());
			requirePrice("hosted." + model + ".outputPerMillion", price.outputPerMillion());
		});
		if (gpuHourly == null || gpuHourly.isEmpty()) {
			throw new IllegalArgumentException("gpuHourly must give at least one GPU product's price");
		}
		gpuHourly.forEach((product, price) -> requirePrice("gpuHourly." + product, price));
		requirePrice("monthlyOverhead", monthlyOverhead);
		hosted = Map.copyOf(hosted);
		gpuHourly = Map.copyOf(gpuHourly);
		source = (source == null) ? "" : source;
	}

	/**
	 * The defaults, chosen to reproduce the source article's cost table (see
	 * {@code docs/cost-model.md}): a hosted API at GPT-4o's list price ($2.50 per 1M
	 * input tokens, $10.00 per 1M output tokens, OpenAI's pricing page as of 2024-08, not
	 * re-checked on these machines) for every model; an A100 80GB at $2.74 an hour (the
	 * article's $16,000 a month for 8 x A100 over 730 hours); no overhead.
	 * @return the default sheet
	 */
	public static PriceSheet defaults() {
		return new PriceSheet(Map.of(ANY_MODEL, new HostedPrice(2.50, 10.00)),
				Map.of(GpuProfile.a100Sxm80gb().product(), 2.74), 0,
				"hosted: GPT-4o list price (OpenAI pricing, 2024-08); GPU: $16,000/month for 8 x A100 "
						+ "implied by the source article (blog.mvpfactory.co); overhead: none");
	}

	/**
	 * The hosted price of a model.
	 * @param model the model name
	 * @return its price, or the {@code "*"} price
	 * @throws IllegalArgumentException if neither is on the sheet
	 */
	public HostedPrice hostedPrice(String model) {
		HostedPrice price = this.hosted.getOrDefault(model, this.hosted.get(ANY_MODEL));
		if (price == null) {
			throw new IllegalArgumentException("hosted has no price for model '" + model + "' and no '*' price");
		}
		return price;
	}

	/**
	 * The hourly price of a GPU product.
	 * @param product the product
	 * @return US dollars an hour
	 * @throws IllegalArgumentException if it is not on the sheet
	 */
	public double gpuHourly(String product) {
		Double price = this.gpuHourly.get(product);
		if (price == null) {
			throw new IllegalArgumentException("gpuHourly has no price for '" + product + "'");
		}
		return price;
	}

	private static void requirePrice(String field, Double value) {
		if (value == null || !(value >= 0) || Double.isInfinite(value) || value > 1_000_000_000) {
			throw new IllegalArgumentException(field + " must be a number between 0 and 1e9, was " + value);
		}
	}

	/**
	 * A hosted API's list price.
	 *
	 * @param inputPerMillion US dollars per million input (prompt) tokens
	 * @param outputPerMillion US dollars per million output (generated) tokens
	 */
	public record HostedPrice(double inputPerMillion, double outputPerMillion) {

		/**
		 * What one request costs.
		 * @param promptTokens its prompt
		 * @param outputTokens its output
		 * @return US dollars
		 */
		public double cost(long promptTokens, long outputTokens) {
			return (promptTokens * this.inputPerMillion + outputTokens * this.outputPerMillion) / 1_000_000.0;
		}

	}

}
