package dev.tiergate.web;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import dev.tiergate.problem.InvalidRequestException;
import dev.tiergate.problem.NotFoundException;
import dev.tiergate.routing.EndpointMetrics;
import dev.tiergate.tier.Tier;

/**
 * {@code GET /api/v1/endpoints}: per endpoint its model, node, slices, slots, requests in
 * flight by tier, balancing policy, last scrape with its age, passive health and last
 * error. Filters: {@code model}, {@code state} ({@code healthy}, {@code ejected},
 * {@code draining}).
 */
@RestController
class EndpointsApiController {

	private final EndpointViews views;

	EndpointsApiController(EndpointViews views) {
		this.views = views;
	}

	@GetMapping("/api/v1/endpoints")
	Map<String, Object> endpoints(@RequestParam(required = false) String model,
			@RequestParam(required = false) String state) {
		EndpointViews.State wanted = null;
		if (state != null) {
			wanted = Arrays.stream(EndpointViews.State.values())
				.filter((s) -> s.value().equals(state))
				.findFirst()
				.orElseThrow(() -> new InvalidRequestException("state", "must be one of healthy, ejected, draining"));
		}
		if (model != null && (model.isBlank() || !this.views.knowsModel(model))) {
			throw new NotFoundException("model", "No endpoint has ever served model '" + model + "'");
		}
		EndpointViews.State filter = wanted;
		List<Map<String, Object>> endpoints = this.views.all()
			.stream()
			.filter((v) -> model == null || v.endpoint().model().equals(model))
			.filter((v) -> filter == null || v.state() == filter)
			.map(EndpointsApiController::json)
			.toList();
		return Map.of("endpoints", endpoints);
	}

	private static Map<String, Object> json(EndpointViews.View view) {
		Map<String, Object> json = new LinkedHashMap<>();
		json.put("key", view.endpoint().key());
		json.put("model", view.endpoint().model());
		json.put("node", view.endpoint().node());
		json.put("address", view.endpoint().baseUri().toString());
		json.put("slices", view.endpoint().slices());
		json.put("slots", view.endpoint().slots());
		json.put("warning", view.endpoint().warning());
		json.put("priorityClass", view.endpoint().priorityClass());
		json.put("state", view.state().value());
		json.put("policy", view.policy());
		json.put("inFlight", view.inFlight());
		Map<String, Integer> byTier = new LinkedHashMap<>();
		for (Tier tier : Tier.values()) {
			byTier.put(tier.name(), view.inFlightByTier().get(tier));
		}
		json.put("inFlightByTier", byTier);
		Map<String, Object> health = new LinkedHashMap<>();
		health.put("state", view.endpoint().health().name().toLowerCase(Locale.ROOT));
		health.put("consecutiveFailures", view.endpoint().consecutiveFailures());
		health.put("ejections", view.endpoint().ejections());
		health.put("ejectedUntil", view.ejectedUntil());
		health.put("lastError", view.endpoint().lastError());
		health.put("lastErrorAt", view.lastErrorAt());
		json.put("health", health);
		EndpointViews.Scrape scrape = view.scrape();
		if (scrape == null) {
			json.put("metrics", null);
		}
		else {
			Map<String, Object> metrics = new LinkedHashMap<>();
			EndpointMetrics m = scrape.metrics();
			metrics.put("numRequestsWaiting", (m != null) ? m.waiting() : null);
			metrics.put("numRequestsRunning", (m != null) ? m.running() : null);
			metrics.put("kvCacheUsage", (m != null) ? m.kvCacheUsage() : null);
			metrics.put("ageMs", scrape.ageMs());
			metrics.put("stale", scrape.stale());
			metrics.put("error", scrape.error());
			json.put("metrics", metrics);
		}
		return json;
	}

}
