package dev.tiergate.cost;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * {@code GET/PUT /api/v1/cost/prices}: the price sheet the simulations use. A PUT
 * replaces the whole sheet after validation (400 naming the field otherwise). Not
 * audited: the cost module may not use the audit module.
 */
@RestController
class PricesApiController {

	private final PriceSheets prices;

	PricesApiController(PriceSheets prices) {
		this.prices = prices;
	}

	@GetMapping("/api/v1/cost/prices")
	PriceSheet get() {
		return this.prices.current();
	}

	@PutMapping("/api/v1/cost/prices")
	PriceSheet put(@RequestBody JsonNode body) {
		return this.prices.replace(parse(body));
	}

	static PriceSheet parse(JsonNode body) {
		if (body == null || !body.isObject()) {
			throw new InvalidCostRequestException("body", "must be a JSON object");
		}
		for (String field : new String[] { "hosted", "gpuHourly", "monthlyOverhead" }) {
			if (!body.has(field) || body.get(field).isNull()) {
				throw new InvalidCostRequestException(field, "is required");
			}
		}
		try {
			return SimulationFiles.JSON.treeToValue(body, PriceSheet.class);
		}
		catch (JacksonException ex) {
			String message = SimulationFiles.describe(ex);
			throw new InvalidCostRequestException(Simulations.fieldOf(message, ""), message);
		}
	}

}
