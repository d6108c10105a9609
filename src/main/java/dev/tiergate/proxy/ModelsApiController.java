package dev.tiergate.proxy;

import java.time.Clock;
import java.util.List;
import java.util.Map;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RestController;

import dev.tiergate.problem.OpenAiApi;
import dev.tiergate.routing.EndpointRegistry;

/**
 * {@code GET /v1/models}: the models the fleet serves, in OpenAI's list format.
 */
@RestController
@OpenAiApi
class ModelsApiController {

	private final EndpointRegistry registry;

	private final long created;

	ModelsApiController(EndpointRegistry registry, Clock clock) {
		this.registry = registry;
		this.created = clock.instant().getEpochSecond();
	}

	@GetMapping("/v1/models")
	Map<String, Object> list() {
		List<Map<String, Object>> data = this.registry.models().stream().map(this::model).toList();
		return Map.of("object", "list", "data", data);
	}

	@GetMapping("/v1/models/{id}")
	Map<String, Object> get(@PathVariable String id) {
		if (this.registry.pool(id).isEmpty()) {
			throw new OpenAiException(404, "invalid_request_error", "model_not_found",
					"The model '" + id + "' does not exist");
		}
		return model(id);
	}

	private Map<String, Object> model(String id) {
		return Map.of("id", id, "object", "model", "created", this.created, "owned_by", "tiergate");
	}

}
