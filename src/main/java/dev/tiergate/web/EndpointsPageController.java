package dev.tiergate.web;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;

/**
 * The dashboard's "Endpoints" page: per model, each inference pod with its node, slots,
 * requests in flight by tier, last scrape, passive health and last error. The table
 * refreshes every two seconds.
 */
@Controller
class EndpointsPageController {

	private final EndpointViews views;

	EndpointsPageController(EndpointViews views) {
		this.views = views;
	}

	@GetMapping("/endpoints")
	String endpoints(Model model) {
		model.addAttribute("models", byModel());
		return "endpoints";
	}

	@GetMapping("/fragments/endpoints")
	String fragment(Model model) {
		model.addAttribute("models", byModel());
		return "endpoints :: models";
	}

	private Map<String, List<EndpointViews.View>> byModel() {
		Map<String, List<EndpointViews.View>> models = new LinkedHashMap<>();
		for (EndpointViews.View view : this.views.all()) {
			models.computeIfAbsent(view.endpoint().model(), (m) -> new java.util.ArrayList<>()).add(view);
		}
		return models;
	}

}
