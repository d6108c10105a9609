package dev.tiergate.routing;

import java.util.Map;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

import jakarta.validation.constraints.Positive;

/**
 * How inference pods become endpoints.
 *
 * @param defaultMaxConcurrency slots of an endpoint whose pod has no {@code tiergate.dev/max-concurrency} annotation
 * @param maxConcurrency per-model override of {@code defaultMaxConcurrency}, keyed by model name
 */
@Validated
@ConfigurationProperties("tiergate.routing")
public record RoutingProperties(@DefaultValue("16") @Positive int defaultMaxConcurrency,
		@DefaultValue Map<String, @Positive Integer> maxConcurrency) {

	/**
	 * Slots for a pod of the given model that does not declare its own.
	 * @param model the model
	 * @return the configured slot count
	 */
	public int slotsFor(String model) {
		return this.maxConcurrency.getOrDefault(model, this.defaultMaxConcurrency);
	}

}
