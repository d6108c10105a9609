package dev.tiergate.quota;

import java.time.Clock;
import java.time.LocalDate;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.springframework.dao.DataAccessException;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestParam;

import dev.tiergate.dispatch.Tier;
import tools.jackson.databind.json.JsonMapper;

/**
 * The dashboard's tenants pages: every tenant with its limits and live counters, and one tenant's usage in a month
 * with a chart (drawn by {@code /js/quota-usage.js} from data in the page, since scripts may only come from the
 * server) and a CSV export.
 */
@Controller
class QuotaPageController {

	private final TenantStore tenants;

	private final QuotaService quota;

	private final Clock clock;

	private final JsonMapper json = JsonMapper.builder().build();

	QuotaPageController(TenantStore tenants, QuotaService quota, Clock clock) {
		this.tenants = tenants;
		this.quota = quota;
		this.clock = clock;
	}

	record Row(Tenant tenant, QuotaStatus status) {
	}

	@GetMapping("/quota/tenants")
	String tenants(Model model) {
		List<Row> rows = new ArrayList<>();
		for (Tenant tenant : this.tenants.findAll()) {
			QuotaStatus status;
			try {
				status = this.quota.status(tenant.id());
			}
			catch (DataAccessException ex) {
				status = null;
			}
			rows.add(new Row(tenant, status));
		}
		model.addAttribute("rows", rows);
		model.addAttribute("mode", this.quota.mode());
		return "quota/tenants";
	}

	@GetMapping("/quota/tenants/{id}")
	String tenant(@PathVariable String id, @RequestParam(required = false) String month, Model model) {
		Tenant tenant = this.tenants.find(id)
			.orElseThrow(() -> new TenantNotFoundException("No tenant has id '" + id + "'."));
		YearMonth which = TenantsApiController.month(month, this.clock);
		List<UsageRecord> records = this.quota.usage(id, which);
		model.addAttribute("tenant", tenant);
		model.addAttribute("month", which);
		model.addAttribute("previous", which.minusMonths(1));
		model.addAttribute("next", which.plusMonths(1));
		model.addAttribute("records", records);
		model.addAttribute("totals", UsageReports.totals(records));
		model.addAttribute("status", this.quota.status(id));
		model.addAttribute("chart", this.json.writeValueAsString(chart(which, records)));
		return "quota/tenant";
	}

	@GetMapping("/quota/tenants/{id}/usage.csv")
	ResponseEntity<String> csv(@PathVariable String id, @RequestParam(required = false) String month) {
		YearMonth which = TenantsApiController.month(month, this.clock);
		return ResponseEntity.ok()
			.contentType(new MediaType("text", "csv", java.nio.charset.StandardCharsets.UTF_8))
			.header("Content-Disposition", "attachment; filename=\"usage-" + id + "-" + which + ".csv\"")
			.body(UsageReports.csv(this.quota.usage(id, which)));
	}

	/** Tokens per day and tier, every day of the month: {labels: [...], series: {P0: [...], ...}}. */
	private static Map<String, Object> chart(YearMonth month, List<UsageRecord> records) {
		List<String> labels = new ArrayList<>();
		Map<LocalDate, Integer> index = new TreeMap<>();
		for (int day = 1; day <= month.lengthOfMonth(); day++) {
			index.put(month.atDay(day), day - 1);
			labels.add(Integer.toString(day));
		}
		Map<String, long[]> series = new LinkedHashMap<>();
		for (Tier tier : Tier.values()) {
			series.put(tier.name(), new long[labels.size()]);
		}
		for (UsageRecord r : records) {
			Integer i = index.get(r.day());
			if (i != null) {
				series.get(r.tier().name())[i] += r.totalTokens();
			}
		}
		return Map.of("labels", labels, "series", series);
	}

}
