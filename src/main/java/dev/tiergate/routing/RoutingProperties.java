package dev.tiergate.routing;

import java.time.Duration;
import java.util.Map;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

import jakarta.validation.Valid;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Positive;

/**
 * How inference pods become endpoints, how requests are spread over them, and when a
 * failing one is left alone.
 *
 * @param defaultMaxConcurrency slots of an endpoint whose pod has no
 * {@code tiergate.dev/max-concurrency} annotation
 * @param maxConcurrency per-model override of {@code defaultMaxConcurrency}, keyed by
 * model name
 * @param maxConcurrencyLimit the most slots a pod may claim with its
 * {@code tiergate.dev/max-concurrency} annotation; a larger value is refused (the pod
 * gets the configured slots, and a warning on its endpoint)
 * @param defaultPolicy balancing policy of a model without its own
 * @param policy balancing policy per model ({@code least-outstanding},
 * {@code queue-aware}, {@code prefix-affinity})
 * @param scrape scraping of the endpoints' vLLM {@code /metrics}
 * @param affinity the affinity key of {@code prefix-affinity}
 * @param health passive health: ejecting endpoints that fail
 */
@Validated
@ConfigurationProperties("tiergate.routing")
public record RoutingProperties(@DefaultValue("16") @Positive int defaultMaxConcurrency,
		@DefaultValue Map<String, @Positive Integer> maxConcurrency,
		@DefaultValue("256") @Positive int maxConcurrencyLimit,
		@DefaultValue("least-outstanding") @NotNull Policy defaultPolicy,
		@DefaultValue Map<String, @NotNull Policy> policy, @DefaultValue @Valid @NotNull Scrape scrape,
		@DefaultValue @Valid @NotNull Affinity affinity, @DefaultValue @Valid @NotNull Health health) {

	/**
	 * Properties with every default but the slots, for tests and tools.
	 * @param defaultMaxConcurrency slots of a pod without annotation
	 * @param maxConcurrency per-model slots
	 * @return the properties
	 */
	public static RoutingProperties withSlots(int defaultMaxConcurrency, Map<String, Integer> maxConcurrency) {
		return new RoutingProperties(defaultMaxConcurrency, maxConcurrency, 256, Policy.LEAST_OUTSTANDING, Map.of(),
				Scrape.DEFAULTS, Affinity.DEFAULTS, Health.DEFAULTS);
	}

	/**
	 * Slots for a pod of the given model that does not declare its own.
	 * @param model the model
	 * @return the configured slot count
	 */
	public int slotsFor(String model) {
		return this.maxConcurrency.getOrDefault(model, this.defaultMaxConcurrency);
	}

	/**
	 * The balancing policy of a model.
	 * @param model the model
	 * @return its policy
	 */
	public Policy policyFor(String model) {
		return this.policy.getOrDefault(model, this.defaultPolicy);
	}

	/** Balancing policies. */
	public enum Policy {

		/** The endpoint with the fewest requests in flight through this replica. */
		LEAST_OUTSTANDING,

		/**
		 * Lowest score by scraped vLLM queue, batch and KV-cache gauges;
		 * least-outstanding when they are stale.
		 */
		QUEUE_AWARE,

		/** Consistent hashing with bounded load on the prompt prefix or session. */
		PREFIX_AFFINITY

	}

	/**
	 * Scraping of each endpoint's {@code /metrics}, on virtual threads, off the request
	 * path.
	 *
	 * @param interval time between scrapes of one endpoint
	 * @param staleAfter a scrape older than this no longer counts ({@code queue-aware}
	 * falls back to least-outstanding)
	 * @param timeout longest one scrape or health probe may take
	 */
	public record Scrape(@DefaultValue("1s") @NotNull Duration interval,
			@DefaultValue("5s") @NotNull Duration staleAfter, @DefaultValue("500ms") @NotNull Duration timeout) {

		static final Scrape DEFAULTS = new Scrape(Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofMillis(500));

	}

	/**
	 * The affinity key of {@code prefix-affinity}.
	 *
	 * @param header request header whose value, when present, is the key (a session or
	 * conversation id) instead of the prompt
	 * @param prefixLength characters of the prompt (chat messages in order, or
	 * {@code prompt}) that make the key
	 * @param loadFactor how far above the mean load an endpoint may go before a key
	 * spills to the next one on the ring
	 * @param virtualNodes points per endpoint on the hash ring
	 */
	public record Affinity(@DefaultValue("X-Tiergate-Session") @NotBlank String header,
			@DefaultValue("512") @Positive int prefixLength, @DefaultValue("1.25") @DecimalMin("1.0") double loadFactor,
			@DefaultValue("100") @Positive int virtualNodes) {

		static final Affinity DEFAULTS = new Affinity("X-Tiergate-Session", 512, 1.25, 100);

	}

	/**
	 * Passive health: an endpoint whose requests fail {@code consecutiveFailures} times
	 * in a row (connect errors, 5xx answers, broken streams) is ejected for
	 * {@code baseEjection}, doubled at each further ejection up to {@code maxEjection};
	 * then it is probed ({@code GET probePath}) and takes requests again once a probe
	 * succeeds.
	 *
	 * @param consecutiveFailures failures in a row that eject an endpoint
	 * @param baseEjection first ejection's length
	 * @param maxEjection longest ejection
	 * @param maxEjectionPercent at most this share of a pool is ejected at once (at least
	 * one endpoint may be)
	 * @param probePath path probed on an ejected endpoint (vLLM serves {@code /health})
	 */
	public record Health(@DefaultValue("3") @Positive int consecutiveFailures,
			@DefaultValue("5s") @NotNull Duration baseEjection, @DefaultValue("2m") @NotNull Duration maxEjection,
			@DefaultValue("50") @Min(0) @Max(100) int maxEjectionPercent,
			@DefaultValue("/health") @NotBlank String probePath) {

		static final Health DEFAULTS = new Health(3, Duration.ofSeconds(5), Duration.ofMinutes(2), 50, "/health");

	}

}
