package dev.tiergate.cost;

import java.time.Clock;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Wires the price sheet and the simulations of a running Tiergate.
 */
@Configuration(proxyBeanMethods = false)
class CostConfiguration {

	@Bean
	PriceSheets priceSheets() {
		return new PriceSheets();
	}

	@Bean
	Simulations simulations(CostProperties properties, PriceSheets prices, Clock clock) {
		return new Simulations(properties, prices, clock);
	}

}
