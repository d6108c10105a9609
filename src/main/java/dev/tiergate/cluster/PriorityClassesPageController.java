package dev.tiergate.cluster;

import java.util.List;

import org.springframework.security.access.prepost.PreAuthorize;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.servlet.mvc.support.RedirectAttributes;

import dev.tiergate.problem.TiergateException;
import dev.tiergate.tier.Tiers;

/**
 * The dashboard's PriorityClasses page: every class, its tier and pod count; sync from
 * the tiers; delete of managed classes.
 */
@Controller
class PriorityClassesPageController {

	private final PriorityClasses classes;

	private final Tiers tiers;

	PriorityClassesPageController(PriorityClasses classes, Tiers tiers) {
		this.classes = classes;
		this.tiers = tiers;
	}

	@GetMapping("/cluster/priority-classes")
	String page(Model model) {
		try {
			model.addAttribute("classes",
					this.classes.list()
						.stream()
						.map((c) -> new Row(c, this.tiers.tierOfPriorityClass(c.name())))
						.toList());
		}
		catch (ClusterUnavailableException ex) {
			model.addAttribute("classes", List.of());
			model.addAttribute("error", ex.getMessage());
		}
		model.addAttribute("desired", PriorityClasses.Spec.forTiers(this.tiers));
		return "cluster/priority-classes";
	}

	@PostMapping("/cluster/priority-classes/sync")
	@PreAuthorize("hasRole('ADMIN')")
	String sync(RedirectAttributes redirect) {
		try {
			List<PriorityClasses.SyncChange> changes = this.classes.sync(PriorityClasses.Spec.forTiers(this.tiers));
			redirect.addFlashAttribute("message",
					"Synced from the tiers: " + changes.stream()
						.map((c) -> c.name() + " " + c.action())
						.reduce((a, b) -> a + ", " + b)
						.orElse("nothing to do"));
		}
		catch (TiergateException ex) {
			redirect.addFlashAttribute("error", ex.getMessage());
		}
		return "redirect:/cluster/priority-classes";
	}

	@PostMapping("/cluster/priority-classes/{name}/delete")
	@PreAuthorize("hasRole('ADMIN')")
	String delete(@PathVariable String name, RedirectAttributes redirect) {
		try {
			this.classes.delete(name);
			redirect.addFlashAttribute("message", "Deleted " + name + ".");
		}
		catch (ClusterConflictException ex) {
			redirect.addFlashAttribute("error", ex.getMessage() + ": " + String.join(", ", ex.conflicts()));
		}
		catch (TiergateException ex) {
			redirect.addFlashAttribute("error", ex.getMessage());
		}
		return "redirect:/cluster/priority-classes";
	}

	/**
	 * One row of the table.
	 *
	 * @param info the class
	 * @param tier the tier whose definition names it, or {@code null}
	 */
	record Row(PriorityClasses.Info info, String tier) {
	}

}
