package dev.tiergate.audit;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import dev.tiergate.problem.InvalidRequestException;

/**
 * {@code GET /api/v1/audit?kind=&since=&until=&limit=}: changes made through Tiergate,
 * newest first.
 */
@RestController
class AuditApiController {

	private final AuditLog audit;

	AuditApiController(AuditLog audit) {
		this.audit = audit;
	}

	@GetMapping("/api/v1/audit")
	List<AuditEntry> entries(@RequestParam(required = false) String kind, @RequestParam(required = false) String since,
			@RequestParam(required = false) String until, @RequestParam(defaultValue = "100") int limit) {
		return this.audit.entries(kind, instant("since", since), instant("until", until), limit);
	}

	static Instant instant(String field, String value) {
		if (value == null || value.isBlank()) {
			return null;
		}
		try {
			return Instant.parse(value.strip());
		}
		catch (DateTimeParseException ex) {
			throw new InvalidRequestException(field, "must be an ISO-8601 instant such as 2026-11-02T09:30:00Z");
		}
	}

}
