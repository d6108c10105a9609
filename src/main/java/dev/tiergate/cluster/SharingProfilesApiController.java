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

/**
 * GPU sharing profiles: {@code /api/v1/sharing/profiles} (list, get, put, delete,
 * preview, apply) and {@code /api/v1/sharing/nodes} (desired against live, with drift).
 * Reads need a viewer, changes an administrator.
 */
@RestController
@RequestMapping("/api/v1/sharing")
class SharingProfilesApiController {

	private final SharingProfiles profiles;

	SharingProfilesApiController(SharingProfiles profiles) {
		this.profiles = profiles;
	}

	@GetMapping("/profiles")
	List<SharingProfiles.Stored> list() {
		return this.profiles.list();
	}

	@GetMapping("/profiles/{name}")
	SharingProfiles.Stored get(@PathVariable String name) {
		return this.profiles.get(name);
	}

	@PutMapping("/profiles/{name}")
	@PreAuthorize("hasRole('ADMIN')")
	SharingProfiles.Saved put(@PathVariable String name, @RequestBody ProfileBody body) {
		return this.profiles.put(body.toProfile(name));
	}

	@DeleteMapping("/profiles/{name}")
	@PreAuthorize("hasRole('ADMIN')")
	ResponseEntity<Void> delete(@PathVariable String name) {
		this.profiles.delete(name);
		return ResponseEntity.noContent().build();
	}

	@PostMapping("/profiles/{name}/preview")
	@PreAuthorize("hasRole('ADMIN')")
	SharingProfiles.Preview preview(@PathVariable String name, @RequestBody RolloutBody body) {
		return this.profiles.preview(profile(name, body), body.target());
	}

	@PostMapping("/profiles/{name}/apply")
	@PreAuthorize("hasRole('ADMIN')")
	SharingProfiles.Applied apply(@PathVariable String name, @RequestBody RolloutBody body) {
		return this.profiles.apply(profile(name, body), body.target());
	}

	@GetMapping("/nodes")
	List<SharingProfiles.NodeStatus> nodes() {
		return this.profiles.nodes();
	}

	private SharingProfile profile(String name, RolloutBody body) {
		if (body.strategy() == null) {
			SharingProfile stored = this.profiles.get(name).profile();
			if (stored == null) {
				throw new dev.tiergate.cluster.InvalidClusterChangeException("strategy",
						"the stored key is not a sharing profile: give the profile in the request");
			}
			return stored;
		}
		return new ProfileBody(body.strategy(), body.replicas(), body.resource(), body.renameByDefault(),
				body.failRequestsGreaterThanOne(), body.rename(), body.devices())
			.toProfile(name);
	}

	/**
	 * A profile as JSON.
	 *
	 * @param strategy {@code time-slicing} or {@code mps}
	 * @param replicas replicas per GPU
	 * @param resource resource to share (default {@code nvidia.com/gpu})
	 * @param renameByDefault advertise {@code <resource>.shared} (default false)
	 * @param failRequestsGreaterThanOne refuse requests of more than one replica (default
	 * true)
	 * @param rename ignored by the plugin (warning)
	 * @param devices ignored by the plugin (warning)
	 */
	record ProfileBody(String strategy, Integer replicas, String resource, Boolean renameByDefault,
			Boolean failRequestsGreaterThanOne, String rename, Object devices) {

		SharingProfile toProfile(String name) {
			return new SharingProfile(name, this.strategy, (this.replicas != null) ? this.replicas : 0, this.resource,
					Boolean.TRUE.equals(this.renameByDefault), !Boolean.FALSE.equals(this.failRequestsGreaterThanOne),
					this.rename, this.devices)
				.withDefaults();
		}

	}

	/**
	 * A roll-out: the profile (omit {@code strategy} to roll out the stored one) and the
	 * nodes to label.
	 *
	 * @param strategy {@code time-slicing} or {@code mps}
	 * @param replicas replicas per GPU
	 * @param resource resource to share
	 * @param renameByDefault advertise {@code <resource>.shared}
	 * @param failRequestsGreaterThanOne refuse requests of more than one replica
	 * @param rename ignored by the plugin
	 * @param devices ignored by the plugin
	 * @param nodes node names to label
	 * @param nodeSelector label selector of nodes to label
	 */
	record RolloutBody(String strategy, Integer replicas, String resource, Boolean renameByDefault,
			Boolean failRequestsGreaterThanOne, String rename, Object devices, List<String> nodes,
			String nodeSelector) {

		SharingProfiles.Target target() {
			return new SharingProfiles.Target(this.nodes, this.nodeSelector);
		}

	}

}
