package dev.tiergate.dispatch;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code GET /api/v1/dispatch/queues}: per pool and tier, what waits, what runs, what was
 * borrowed, admitted, rejected and preempted, and the same per tenant.
 */
@RestController
class DispatchApiController {

	private final DispatchRuntime runtime;

	DispatchApiController(DispatchRuntime runtime) {
		this.runtime = runtime;
	}

	@GetMapping("/api/v1/dispatch/queues")
	Map<String, Object> queues() {
		List<Map<String, Object>> pools = this.runtime.snapshots().stream().map(DispatchApiController::pool).toList();
		return Map.of("pools", pools);
	}

	static Map<String, Object> pool(PoolSnapshot snapshot) {
		Map<String, Object> pool = new LinkedHashMap<>();
		pool.put("pool", snapshot.pool());
		pool.put("slots", snapshot.acceptingSlots());
		pool.put("capacity", snapshot.capacity());
		pool.put("used", snapshot.used());
		pool.put("free", snapshot.free());
		pool.put("unreserved", snapshot.unreserved());
		pool.put("queued", snapshot.queued());
		pool.put("endpoints", snapshot.endpoints());
		Map<String, Object> tiers = new LinkedHashMap<>();
		snapshot.tiers().forEach((tier, state) -> {
			Map<String, Object> t = new LinkedHashMap<>();
			t.put("queued", state.queued());
			t.put("inFlight", state.inFlight());
			t.put("borrowed", state.borrowed());
			t.put("reserved", state.reserved());
			t.put("oldestWaitMs", state.oldestWaitNanos() / 1_000_000);
			t.put("admitted", state.admitted());
			t.put("rejected", state.rejected());
			t.put("preempted", state.preempted());
			t.put("tenants",
					state.tenants()
						.stream()
						.map((tenant) -> Map.of("tenant", tenant.tenant(), "queued", tenant.queued(), "inFlight",
								tenant.inFlight(), "dispatched", tenant.dispatched(), "dispatchedTokens",
								tenant.dispatchedCost(), "rejected", tenant.rejected()))
						.toList());
			tiers.put(tier.name(), t);
		});
		pool.put("tiers", tiers);
		return pool;
	}

}
