package dev.tiergate.cluster;

import java.util.List;

import org.springframework.http.ResponseEntity;
import org.springframework.security.access.prepost.PreAuthorize;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

import dev.tiergate.tier.Tiers;

/**
 * {@code /api/v1/priority-classes}: every class with its tier and pod count; create,
 * update and delete of the classes Tiergate manages; sync from the tier definitions.
 * Reads need a viewer, changes an administrator.
 */
@RestController
@RequestMapping("/api/v1/priority-classes")
class PriorityClassesApiController {

	private final PriorityClasses classes;

	private final Tiers tiers;

	PriorityClassesApiController(PriorityClasses classes, Tiers tiers) {
		this.classes = classes;
		this.tiers = tiers;
	}

	@GetMapping
	List<PriorityClassView> list() {
		return this.classes.list().stream().map(this::view).toList();
	}

	@PutMapping("/{name}")
	@PreAuthorize("hasRole('ADMIN')")
	PriorityClassView put(@PathVariable String name, @RequestBody ClassBody body) {
		if (body.value() == null) {
			throw new InvalidClusterChangeException("value", "is required");
		}
		String tier = this.tiers.tierOfPriorityClass(name);
		return view(this.classes.put(new PriorityClasses.Spec(name, body.value(),
				(body.preemptionPolicy() != null) ? body.preemptionPolicy() : "PreemptLowerPriority",
				body.globalDefault(), body.description(), tier)));
	}

	@DeleteMapping("/{name}")
	@PreAuthorize("hasRole('ADMIN')")
	ResponseEntity<Void> delete(@PathVariable String name) {
		this.classes.delete(name);
		return ResponseEntity.noContent().build();
	}

	@PostMapping("/sync")
	@PreAuthorize("hasRole('ADMIN')")
	List<PriorityClasses.SyncChange> sync() {
		return this.classes.sync(PriorityClasses.Spec.forTiers(this.tiers));
	}

	private PriorityClassView view(PriorityClasses.Info info) {
		String tier = this.tiers.tierOfPriorityClass(info.name());
		return new PriorityClassView(info.name(), info.value(), info.preemptionPolicy(), info.globalDefault(),
				info.description(), info.managed(), info.readOnly(), (tier != null) ? tier : "", info.pods());
	}

	/**
	 * A class as the API shows it.
	 *
	 * @param name class name
	 * @param value priority value
	 * @param preemptionPolicy {@code PreemptLowerPriority} or {@code Never}
	 * @param globalDefault whether it is the global default
	 * @param description description
	 * @param managed whether Tiergate manages it
	 * @param readOnly whether Tiergate refuses to change it
	 * @param tier the tier whose definition names it, or {@code ""}
	 * @param pods pods (not finished) that use it
	 */
	record PriorityClassView(String name, long value, String preemptionPolicy, boolean globalDefault,
			String description, boolean managed, boolean readOnly, String tier, int pods) {
	}

	/**
	 * A managed class to create or update.
	 *
	 * @param value priority value, at most 1,000,000,000
	 * @param preemptionPolicy {@code PreemptLowerPriority} (default) or {@code Never}
	 * @param globalDefault {@code true} to make it the global default; omit to keep
	 * @param description description
	 */
	record ClassBody(Long value, String preemptionPolicy, Boolean globalDefault, String description) {
	}

}
