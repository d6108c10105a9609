package dev.tiergate.web;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code GET /api/v1/slices}: per node its GPUs and slices (capacity, allocatable,
 * requested by PriorityClass and tier, free), per endpoint its slots in use, and cluster
 * totals with utilization.
 */
@RestController
class SlicesApiController {

	private final SliceInventoryService inventory;

	SlicesApiController(SliceInventoryService inventory) {
		this.inventory = inventory;
	}

	@GetMapping("/api/v1/slices")
	SliceInventoryService.Slices slices() {
		return this.inventory.slices();
	}

}
