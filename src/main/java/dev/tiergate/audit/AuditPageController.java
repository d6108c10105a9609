package dev.tiergate.audit;

import java.util.List;

import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;

import dev.tiergate.problem.InvalidRequestException;

/**
 * The dashboard's audit page: changes made through Tiergate, newest first, filtered by
 * kind and time.
 */
@Controller
class AuditPageController {

	static final List<String> KINDS = List.of("sharing-profile", "node-label", "device-plugin-restart",
			"priority-class", "tier");

	private final AuditLog audit;

	AuditPageController(AuditLog audit) {
		this.audit = audit;
	}

	@GetMapping("/audit")
	String page(@RequestParam(required = false) String kind, @RequestParam(required = false) String since,
			Model model) {
		model.addAttribute("kinds", KINDS);
		model.addAttribute("kind", (kind != null) ? kind : "");
		model.addAttribute("since", (since != null) ? since : "");
		try {
			model.addAttribute("entries",
					this.audit.entries(kind, AuditApiController.instant("since", since), null, 200));
		}
		catch (InvalidRequestException ex) {
			model.addAttribute("entries", List.of());
			model.addAttribute("error", ex.getMessage());
		}
		return "audit/audit";
	}

}
