package dev.tiergate.cost;

import java.nio.file.Path;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

/**
 * Settings of the cost model and the simulator in a running Tiergate.
 *
 * @param tracesDir the folder whose trace files {@code POST /api/v1/simulations} may name
 * (by file name only)
 * @param maxSimulations how many simulations are kept in memory, oldest dropped first
 * @param maxTraceSize the largest trace a request may carry inline
 * @param threads threads one simulation's runs use
 */
@ConfigurationProperties("tiergate.cost")
@Validated
public record CostProperties(@DefaultValue("../shared/traces") String tracesDir,
		@DefaultValue("20") @Min(1) @Max(1000) int maxSimulations, @DefaultValue("20MB") DataSize maxTraceSize,
		@DefaultValue("2") @Min(1) @Max(256) int threads) {

	/**
	 * The traces folder as a path.
	 * @return the path
	 */
	public Path tracesPath() {
		return Path.of(this.tracesDir);
	}

}
