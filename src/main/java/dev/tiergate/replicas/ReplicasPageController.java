package dev.tiergate.replicas;

import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;

/**
 * The dashboard's "Replicas" page: the live replicas, their heartbeats, the slots each
 * owns per pool and its demand per tier; refreshed every two seconds.
 */
@Controller
class ReplicasPageController {

	private final ReplicasView view;

	ReplicasPageController(ReplicasView view) {
		this.view = view;
	}

	@GetMapping("/replicas")
	String replicas(Model model) {
		model.addAttribute("fleet", this.view.fleet());
		return "replicas/replicas";
	}

	@GetMapping("/fragments/replicas")
	String fragment(Model model) {
		model.addAttribute("fleet", this.view.fleet());
		return "replicas/replicas :: fleet";
	}

}
