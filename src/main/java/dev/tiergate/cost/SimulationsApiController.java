package dev.tiergate.cost;

import java.net.URI;
import java.util.List;
import java.util.Map;

import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

import dev.tiergate.problem.TiergateException;
import tools.jackson.databind.JsonNode;

/**
 * {@code /api/v1/simulations}: start a simulation (it runs in the background), follow its
 * progress, read its report as JSON or as a self-contained HTML page; and the trace files
 * a simulation may name.
 */
@RestController
class SimulationsApiController {

	private final Simulations simulations;

	SimulationsApiController(Simulations simulations) {
		this.simulations = simulations;
	}

	@PostMapping("/api/v1/simulations")
	ResponseEntity<Map<String, Object>> start(@RequestBody JsonNode request) {
		Simulations.Job job = this.simulations.start(request);
		return ResponseEntity.accepted().location(URI.create("/api/v1/simulations/" + job.id())).body(job.view(false));
	}

	@GetMapping("/api/v1/simulations")
	List<Map<String, Object>> list() {
		return this.simulations.list().stream().map((job) -> job.view(false)).toList();
	}

	@GetMapping("/api/v1/simulations/{id}")
	Map<String, Object> get(@PathVariable String id) {
		return this.simulations.get(id).view(true);
	}

	@GetMapping(path = "/api/v1/simulations/{id}/report.html", produces = MediaType.TEXT_HTML_VALUE)
	ResponseEntity<String> html(@PathVariable String id) {
		Simulations.Job job = this.simulations.get(id);
		if (job.report() == null) {
			throw new NotReadyException(id, job.status());
		}
		return ResponseEntity.ok().contentType(MediaType.TEXT_HTML).body(HtmlReport.render(job.report()));
	}

	@GetMapping("/api/v1/cost/traces")
	List<String> traces() {
		return this.simulations.traces();
	}

	/**
	 * The report was asked for before the simulation ended: 409.
	 */
	static final class NotReadyException extends TiergateException {

		NotReadyException(String id, Simulations.Status status) {
			super(409, "not_ready", "simulation " + id + " is " + status.name().toLowerCase(java.util.Locale.ROOT)
					+ "; its report is there once its status is DONE");
		}

	}

}
