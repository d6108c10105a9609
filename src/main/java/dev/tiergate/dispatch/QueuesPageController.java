package dev.tiergate.dispatch;

import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.ResponseBody;

import dev.tiergate.tier.Tier;

/**
 * The dashboard's "Queues" page: per pool, slots by tier as a bar, the queues per tier
 * and tenant, and the last minutes' wait percentiles per tier as a chart. Tables refresh
 * every two seconds, the chart every five.
 */
@Controller
class QueuesPageController {

	private final DispatchRuntime runtime;

	private final Clock clock;

	QueuesPageController(DispatchRuntime runtime, Clock clock) {
		this.runtime = runtime;
		this.clock = clock;
	}

	@GetMapping("/queues")
	String queues(Model model) {
		model.addAttribute("pools", pools());
		return "dispatch/queues";
	}

	@GetMapping("/fragments/queues")
	String fragment(Model model) {
		model.addAttribute("pools", pools());
		return "dispatch/queues :: pools";
	}

	@GetMapping(path = "/queues/waits.json", produces = "application/json")
	@ResponseBody
	Map<String, Object> waits() {
		WaitHistory history = this.runtime.waits();
		Map<Tier, List<WaitHistory.Point>> points = history.percentiles(this.clock.millis());
		Map<String, Object> result = new LinkedHashMap<>();
		result.put("bucketSeconds", history.intervalMillis() / 1000);
		Map<String, Object> tiers = new LinkedHashMap<>();
		points.forEach((tier, list) -> tiers.put(tier.name(), list));
		result.put("tiers", tiers);
		return result;
	}

	private List<PoolView> pools() {
		List<PoolView> views = new ArrayList<>();
		for (PoolSnapshot snapshot : this.runtime.snapshots()) {
			views.add(PoolView.of(snapshot));
		}
		return views;
	}

	/** A pool as the page draws it: bar segments in percent of the pool's capacity. */
	record PoolView(PoolSnapshot snapshot, List<Segment> segments, double reservedP0Percent, List<TierRow> tiers) {

		static PoolView of(PoolSnapshot snapshot) {
			double capacity = Math.max(1, snapshot.capacity());
			List<Segment> segments = new ArrayList<>();
			double x = 0;
			for (Tier tier : Tier.values()) {
				PoolSnapshot.TierState state = snapshot.tiers().get(tier);
				int own = state.inFlight() - state.borrowed();
				double width = 100.0 * own / capacity;
				segments
					.add(new Segment(tier.name().toLowerCase(Locale.ROOT), x, width, tier + ": " + own + " running"));
				x += width;
			}
			for (Tier tier : Tier.values()) {
				PoolSnapshot.TierState state = snapshot.tiers().get(tier);
				double width = 100.0 * state.borrowed() / capacity;
				segments.add(new Segment(tier.name().toLowerCase(Locale.ROOT) + " borrowed", x, width,
						tier + ": " + state.borrowed() + " borrowed"));
				x += width;
			}
			segments.add(new Segment("free", x, Math.max(0, 100 - x), snapshot.free() + " free"));
			double reserved = 100.0 * snapshot.tiers().get(Tier.P0).reserved() / capacity;
			List<TierRow> rows = new ArrayList<>();
			snapshot.tiers()
				.forEach((tier, state) -> rows.add(
						new TierRow(tier, state, state.rejected().values().stream().mapToLong(Long::longValue).sum())));
			return new PoolView(snapshot, segments, reserved, rows);
		}

	}

	/** One tier's row. */
	record TierRow(Tier key, PoolSnapshot.TierState value, long rejectedTotal) {
	}

	/** One coloured part of a pool's bar. */
	record Segment(String cssClass, double x, double width, String label) {
	}

}
