package dev.tiergate.replicas;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code GET /api/v1/replicas}: the live replicas of this fleet, each with its heartbeat
 * age, the slots it owns per pool and endpoint, its demand per tier, and whether it
 * leads.
 */
@RestController
class ReplicasApiController {

	private final ReplicasView view;

	ReplicasApiController(ReplicasView view) {
		this.view = view;
	}

	@GetMapping("/api/v1/replicas")
	ReplicasView.Fleet replicas() {
		return this.view.fleet();
	}

}
