package dev.tiergate.tier;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.servlet.mvc.support.RedirectAttributes;

import dev.tiergate.audit.AuditLog;
import dev.tiergate.problem.TiergateException;
import tools.jackson.databind.json.JsonMapper;

/**
 * The dashboard's Tiers page: every tier's definition, and for operators a form that
 * moves a tier's reserve between slots and whole endpoints (the rest is changed through
 * {@code PUT /api/v1/tiers}). Changes are audited as the API's are.
 */
@Controller
class TiersPageController {

	private final Tiers tiers;

	private final AuditLog audit;

	private final JsonMapper json;

	TiersPageController(Tiers tiers, AuditLog audit, JsonMapper json) {
		this.tiers = tiers;
		this.audit = audit;
		this.json = json;
	}

	@GetMapping("/tiers")
	String page(Model model) {
		List<Row> rows = new ArrayList<>();
		this.tiers.all().forEach((tier, definition) -> rows.add(new Row(tier.name(), definition)));
		model.addAttribute("tiers", rows);
		model.addAttribute("storage", this.tiers.storage());
		model.addAttribute("rejection", this.tiers.rejection().orElse(null));
		model.addAttribute("placements",
				List.of(ReservePlacement.values()).stream().map(ReservePlacement::value).toList());
		return "tier/tiers";
	}

	@PostMapping("/tiers/{tier}/placement")
	String placement(@PathVariable String tier, @RequestParam String reservePlacement,
			@RequestParam(required = false) Integer borrowPerEndpoint, RedirectAttributes redirect) {
		try {
			Tier parsed = Tier.parse(tier)
				.filter((t) -> t.name().equals(tier))
				.orElseThrow(() -> new InvalidTierException(tier, "is not a tier (P0, P1, P2)"));
			ReservePlacement placement = ReservePlacement.parse(reservePlacement)
				.orElseThrow(() -> new InvalidTierException(tier + ".reservePlacement", "must be slots or endpoints"));
			Map<String, Object> before = TiersApiController.view(this.tiers.all());
			Map<String, Object> after = TiersApiController.view(this.tiers.update(Map.of(parsed,
					new TierProperties.Override(null, null, null, null, null, null, placement, borrowPerEndpoint))));
			if (!after.equals(before)) {
				this.audit.record("tier", "update", parsed.name(), this.json.writeValueAsString(before),
						this.json.writeValueAsString(after));
			}
			redirect.addFlashAttribute("message", parsed.name() + "'s reserve is now on " + placement.value() + ".");
		}
		catch (TiergateException ex) {
			// Invalid, or refused on a replica that is not the leader (503 naming it).
			redirect.addFlashAttribute("error", ex.getMessage());
		}
		return "redirect:/tiers";
	}

	/**
	 * A tier as the page shows it.
	 *
	 * @param tier the tier's name
	 * @param definition its definition
	 */
	record Row(String tier, TierDefinition definition) {

		/**
		 * The placement as written in the API.
		 * @return {@code slots} or {@code endpoints}
		 */
		public String placement() {
			return this.definition.reservePlacement().value();
		}

		/**
		 * The tiers it may preempt.
		 * @return names, comma separated
		 */
		public String mayPreempt() {
			return String.join(", ", this.definition.mayPreempt().stream().sorted().map(Tier::name).toList());
		}

	}

}
