package dev.tiergate.quota;

import java.net.URI;
import java.time.Clock;
import java.time.YearMonth;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code /api/v1/tenants}: tenants, their limits and keys, and their usage (reads for
 * viewers, changes for operators). Changes go through {@link TenantAdministration}, as
 * the dashboard's do.
 */
@RestController
@RequestMapping("/api/v1/tenants")
class TenantsApiController {

	private final TenantStore tenants;

	private final TenantAdministration administration;

	private final QuotaService quota;

	private final Clock clock;

	private final ObjectProvider<TenantSpend> spend;

	TenantsApiController(TenantStore tenants, TenantAdministration administration, QuotaService quota, Clock clock,
			ObjectProvider<TenantSpend> spend) {
		this.spend = spend;
		this.tenants = tenants;
		this.administration = administration;
		this.quota = quota;
		this.clock = clock;
	}

	@GetMapping
	List<Tenant> list() {
		return this.tenants.findAll();
	}

	@PostMapping
	ResponseEntity<Tenant> create(@RequestBody TenantRequest request) {
		Tenant tenant = this.administration.create(request);
		return ResponseEntity.created(URI.create("/api/v1/tenants/" + tenant.id())).body(tenant);
	}

	@GetMapping("/{id}")
	Tenant get(@PathVariable String id) {
		return this.tenants.find(id).orElseThrow(() -> notFound(id));
	}

	@PutMapping("/{id}")
	Tenant update(@PathVariable String id, @RequestBody TenantRequest request) {
		return this.administration.update(id, request);
	}

	@DeleteMapping("/{id}")
	@ResponseStatus(HttpStatus.NO_CONTENT)
	void delete(@PathVariable String id) {
		this.administration.delete(id);
	}

	@PostMapping("/{id}/keys")
	ResponseEntity<Map<String, Object>> createKey(@PathVariable String id) {
		TenantStore.IssuedKey issued = this.administration.issueKey(id);
		Map<String, Object> body = new LinkedHashMap<>();
		body.put("key", issued.key());
		body.put("id", issued.info().id());
		body.put("prefix", issued.info().prefix());
		body.put("created", issued.info().created());
		return ResponseEntity.created(URI.create("/api/v1/tenants/" + id + "/keys/" + issued.info().id()))
			.header("Cache-Control", "no-store")
			.body(body);
	}

	@GetMapping("/{id}/keys")
	List<TenantStore.KeyInfo> keys(@PathVariable String id) {
		return this.administration.keys(id);
	}

	@DeleteMapping("/{id}/keys/{keyId}")
	@ResponseStatus(HttpStatus.NO_CONTENT)
	void revoke(@PathVariable String id, @PathVariable String keyId) {
		this.administration.revokeKey(id, keyId);
	}

	@GetMapping("/{id}/usage")
	Map<String, Object> usage(@PathVariable String id, @RequestParam(required = false) String month) {
		YearMonth which = month(month, this.clock);
		TenantSpend spend = this.spend.getIfAvailable();
		return UsageReports.report(id, which, this.quota.usage(id, which),
				(spend != null) ? spend.of(id, which) : null);
	}

	@GetMapping(path = "/{id}/usage.csv", produces = "text/csv")
	ResponseEntity<String> usageCsv(@PathVariable String id, @RequestParam(required = false) String month) {
		YearMonth which = month(month, this.clock);
		return ResponseEntity.ok()
			.contentType(new MediaType("text", "csv", java.nio.charset.StandardCharsets.UTF_8))
			.header("Content-Disposition", "attachment; filename=\"usage-" + id + "-" + which + ".csv\"")
			.body(UsageReports.csv(this.quota.usage(id, which)));
	}

	static YearMonth month(String month, Clock clock) {
		if (month == null || month.isBlank()) {
			return YearMonth.now(clock);
		}
		try {
			return YearMonth.parse(month.strip());
		}
		catch (DateTimeParseException ex) {
			throw new InvalidTenantException("month", "must be a month such as 2026-11");
		}
	}

	private static TenantNotFoundException notFound(String id) {
		return new TenantNotFoundException("No tenant has id '" + id + "'.");
	}

}
