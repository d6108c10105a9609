package dev.tiergate.quota;

import java.time.Clock;
import java.time.YearMonth;
import java.util.LinkedHashMap;
import java.util.Map;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import dev.tiergate.problem.OpenAiApi;

/**
 * {@code GET /v1/usage}: the calling tenant's own usage and live counters, chosen by its
 * key only; no parameter can name another tenant.
 */
@RestController
@OpenAiApi
class UsageApiController {

	private final QuotaService quota;

	private final Clock clock;

	private final ObjectProvider<TenantSpend> spend;

	UsageApiController(QuotaService quota, Clock clock, ObjectProvider<TenantSpend> spend) {
		this.quota = quota;
		this.clock = clock;
		this.spend = spend;
	}

	@GetMapping("/v1/usage")
	Map<String, Object> usage(@AuthenticationPrincipal Tenant tenant, @RequestParam(required = false) String month) {
		YearMonth which = TenantsApiController.month(month, this.clock);
		TenantSpend spend = this.spend.getIfAvailable();
		Map<String, Object> report = UsageReports.report(tenant.id(), which, this.quota.usage(tenant.id(), which),
				(spend != null) ? spend.of(tenant.id(), which) : null);
		QuotaStatus status = this.quota.status(tenant.id());
		Map<String, Object> current = new LinkedHashMap<>();
		current.put("requests_last_minute", status.requestsLastMinute());
		current.put("tokens_last_minute", status.tokensLastMinute());
		current.put("in_flight", status.inFlight());
		current.put("month_tokens", status.monthTokens());
		report.put("current", current);
		report.put("limits", tenant.limits());
		return report;
	}

}
