package dev.tiergate.quota;

import java.time.Clock;
import java.time.LocalDate;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.dao.DataAccessException;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.security.access.prepost.PreAuthorize;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.ModelAttribute;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.servlet.mvc.support.RedirectAttributes;

import dev.tiergate.tier.Tier;
import tools.jackson.databind.json.JsonMapper;

/**
 * The dashboard's tenants pages: every tenant with its limits and live counters, and one
 * tenant's usage in a month with a chart (drawn by {@code /js/quota-usage.js} from data
 * in the page, since scripts may only come from the server) and a CSV export.
 * <p>
 * Operators also create, edit and delete tenants and create and revoke their keys here,
 * through the same {@link TenantAdministration} as {@code /api/v1/tenants}: a refused
 * change shows the form again with what was typed and the message naming the field; a
 * change made redirects with a flash message. A new key is shown once, on the page the
 * creation redirects to.
 */
@Controller
class QuotaPageController {

	private static final String OPERATOR = "hasRole('OPERATOR')";

	private final TenantStore tenants;

	private final TenantAdministration administration;

	private final QuotaService quota;

	private final Clock clock;

	private final JsonMapper json = JsonMapper.builder().build();

	private final ObjectProvider<TenantSpend> spend;

	QuotaPageController(TenantStore tenants, TenantAdministration administration, QuotaService quota, Clock clock,
			ObjectProvider<TenantSpend> spend) {
		this.spend = spend;
		this.tenants = tenants;
		this.administration = administration;
		this.quota = quota;
		this.clock = clock;
	}

	record Row(Tenant tenant, QuotaStatus status) {
	}

	/**
	 * Why the form was refused.
	 *
	 * @param field the form field at fault, e.g. {@code requestsPerMinute}
	 * @param message the message, naming the field
	 */
	record FormError(String field, String message) {

		static FormError of(InvalidTenantException ex) {
			String field = ex.field().startsWith("limits.") ? ex.field().substring("limits.".length()) : ex.field();
			return new FormError(field, field + ": " + ex.reason());
		}

	}

	@GetMapping("/quota/tenants")
	String tenants(Model model) {
		if (!model.containsAttribute("form")) {
			model.addAttribute("form", TenantForm.blank());
		}
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
		model.addAttribute("tiers", Tier.values());
		return "quota/tenants";
	}

	@PostMapping("/quota/tenants")
	@PreAuthorize(OPERATOR)
	String create(@ModelAttribute("form") TenantForm form, Model model, RedirectAttributes redirect) {
		try {
			Tenant tenant = this.administration.create(form.toRequest());
			redirect.addAttribute("id", tenant.id());
			redirect.addFlashAttribute("message", "Created tenant " + tenant.id() + ".");
			return "redirect:/quota/tenants/{id}";
		}
		catch (InvalidTenantException ex) {
			model.addAttribute("formError", FormError.of(ex));
		}
		catch (TenantConflictException ex) {
			model.addAttribute("formError", new FormError("id", "id: " + ex.getMessage()));
		}
		return tenants(model);
	}

	@GetMapping("/quota/tenants/{id}")
	String tenant(@PathVariable String id, @RequestParam(required = false) String month, Model model) {
		Tenant tenant = find(id);
		if (!model.containsAttribute("form")) {
			model.addAttribute("form", TenantForm.of(tenant));
		}
		return tenantPage(tenant, month, model);
	}

	@PostMapping("/quota/tenants/{id}")
	@PreAuthorize(OPERATOR)
	String update(@PathVariable String id, @ModelAttribute("form") TenantForm form, Model model,
			RedirectAttributes redirect) {
		Tenant current = find(id);
		try {
			this.administration.update(id, form.toRequest());
			redirect.addAttribute("id", id);
			redirect.addFlashAttribute("message", "Saved tenant " + id + ".");
			return "redirect:/quota/tenants/{id}";
		}
		catch (InvalidTenantException ex) {
			model.addAttribute("formError", FormError.of(ex));
		}
		return tenantPage(current, null, model);
	}

	@PostMapping("/quota/tenants/{id}/delete")
	@PreAuthorize(OPERATOR)
	String delete(@PathVariable String id, @RequestParam(defaultValue = "false") boolean confirm,
			RedirectAttributes redirect) {
		if (!confirm) {
			redirect.addAttribute("id", id);
			redirect.addFlashAttribute("error", "Tick the box to confirm that tenant " + id
					+ " and its keys are to be deleted; nothing was deleted.");
			return "redirect:/quota/tenants/{id}";
		}
		try {
			this.administration.delete(id);
			redirect.addFlashAttribute("message", "Deleted tenant " + id + " and its keys; its usage history stays.");
		}
		catch (TenantNotFoundException ex) {
			redirect.addFlashAttribute("error", ex.getMessage());
		}
		return "redirect:/quota/tenants";
	}

	@PostMapping("/quota/tenants/{id}/keys")
	@PreAuthorize(OPERATOR)
	String createKey(@PathVariable String id, RedirectAttributes redirect) {
		TenantStore.IssuedKey issued = this.administration.issueKey(id);
		redirect.addAttribute("id", id);
		// A flash attribute lives until the next request, so the key is shown on the page
		// this redirects to and on
		// no other.
		redirect.addFlashAttribute("newKey", issued.key());
		redirect.addFlashAttribute("newKeyId", issued.info().id());
		return "redirect:/quota/tenants/{id}";
	}

	@PostMapping("/quota/tenants/{id}/keys/{keyId}/revoke")
	@PreAuthorize(OPERATOR)
	String revokeKey(@PathVariable String id, @PathVariable String keyId, RedirectAttributes redirect) {
		try {
			this.administration.revokeKey(id, keyId);
			redirect.addFlashAttribute("message", "Revoked key " + keyId + ": it is refused from the next request on.");
		}
		catch (TenantNotFoundException ex) {
			redirect.addFlashAttribute("error", ex.getMessage());
		}
		redirect.addAttribute("id", id);
		return "redirect:/quota/tenants/{id}";
	}

	private Tenant find(String id) {
		return this.tenants.find(id).orElseThrow(() -> new TenantNotFoundException("No tenant has id '" + id + "'."));
	}

	private String tenantPage(Tenant tenant, String month, Model model) {
		String id = tenant.id();
		YearMonth which = TenantsApiController.month(month, this.clock);
		List<UsageRecord> records = this.quota.usage(id, which);
		model.addAttribute("tenant", tenant);
		model.addAttribute("month", which);
		model.addAttribute("previous", which.minusMonths(1));
		model.addAttribute("next", which.plusMonths(1));
		model.addAttribute("records", records);
		model.addAttribute("totals", UsageReports.totals(records));
		TenantSpend spend = this.spend.getIfAvailable();
		model.addAttribute("spill", (spend != null) ? spend.of(id, which) : null);
		model.addAttribute("status", this.quota.status(id));
		model.addAttribute("chart", this.json.writeValueAsString(chart(which, records)));
		model.addAttribute("keys", this.administration.keys(id));
		model.addAttribute("tiers", Tier.values());
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

	/**
	 * Tokens per day and tier, every day of the month: {labels: [...], series: {P0:
	 * [...], ...}}.
	 */
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
