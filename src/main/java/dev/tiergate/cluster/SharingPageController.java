package dev.tiergate.cluster;

import java.util.List;

import org.springframework.security.access.prepost.PreAuthorize;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.ModelAttribute;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.servlet.mvc.support.RedirectAttributes;

import dev.tiergate.problem.TiergateException;

/**
 * The dashboard's GPU sharing page: profiles, nodes (desired against live), and a
 * preview-then-apply roll-out.
 */
@Controller
class SharingPageController {

	private final SharingProfiles profiles;

	SharingPageController(SharingProfiles profiles) {
		this.profiles = profiles;
	}

	@GetMapping("/cluster/sharing")
	String page(Model model) {
		fill(model, RolloutForm.initial());
		return "cluster/sharing";
	}

	@PostMapping("/cluster/sharing/preview")
	@PreAuthorize("hasRole('ADMIN')")
	String preview(@ModelAttribute RolloutForm form, Model model) {
		try {
			model.addAttribute("preview", this.profiles.preview(form.profile(), form.target()));
		}
		catch (TiergateException ex) {
			model.addAttribute("error", ex.getMessage());
		}
		fill(model, form);
		return "cluster/sharing";
	}

	@PostMapping("/cluster/sharing/apply")
	@PreAuthorize("hasRole('ADMIN')")
	String apply(@ModelAttribute RolloutForm form, Model model, RedirectAttributes redirect) {
		try {
			SharingProfiles.Applied applied = this.profiles.apply(form.profile(), form.target());
			redirect.addFlashAttribute("message", "Applied " + form.name() + ": ConfigMap "
					+ (applied.configMapWritten() ? "written" : "unchanged") + ", nodes labelled "
					+ applied.labelledNodes() + ", device plugin "
					+ (applied.restartedAt().isEmpty() ? "not restarted" : "restarted at " + applied.restartedAt())
					+ ".");
			return "redirect:/cluster/sharing";
		}
		catch (TiergateException ex) {
			model.addAttribute("error", ex.getMessage());
		}
		fill(model, form);
		return "cluster/sharing";
	}

	private void fill(Model model, RolloutForm form) {
		model.addAttribute("form", form);
		try {
			model.addAttribute("profiles", this.profiles.list());
			model.addAttribute("nodes", this.profiles.nodes());
		}
		catch (ClusterUnavailableException ex) {
			model.addAttribute("profiles", List.of());
			model.addAttribute("nodes", List.of());
			model.addAttribute("error", ex.getMessage());
		}
	}

	/**
	 * The roll-out form.
	 *
	 * @param name profile name (ConfigMap key)
	 * @param strategy {@code time-slicing} or {@code mps}
	 * @param replicas replicas per GPU
	 * @param resource resource to share
	 * @param renameByDefault advertise {@code <resource>.shared}
	 * @param failRequestsGreaterThanOne refuse requests of more than one replica
	 * @param nodes nodes to label
	 * @param nodeSelector label selector of nodes to label
	 */
	record RolloutForm(String name, String strategy, Integer replicas, String resource, Boolean renameByDefault,
			Boolean failRequestsGreaterThanOne, List<String> nodes, String nodeSelector) {

		static RolloutForm initial() {
			return new RolloutForm("", "mps", 4, SharingProfile.GPU, false, true, List.of(), "");
		}

		SharingProfile profile() {
			return new SharingProfile((this.name != null) ? this.name.strip() : "", this.strategy,
					(this.replicas != null) ? this.replicas : 0, this.resource,
					Boolean.TRUE.equals(this.renameByDefault), Boolean.TRUE.equals(this.failRequestsGreaterThanOne),
					null, null)
				.withDefaults();
		}

		SharingProfiles.Target target() {
			return new SharingProfiles.Target(this.nodes, this.nodeSelector);
		}

		public boolean selected(String node) {
			return this.nodes != null && this.nodes.contains(node);
		}

	}

}
