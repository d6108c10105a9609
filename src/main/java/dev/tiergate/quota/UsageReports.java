package dev.tiergate.quota;

import java.time.YearMonth;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Usage records as JSON-ready maps and as CSV.
 */
final class UsageReports {

	private UsageReports() {
	}

	static Map<String, Object> report(String tenantId, YearMonth month, List<UsageRecord> records,
			TenantSpend.Spend spill) {
		Map<String, Object> report = new LinkedHashMap<>();
		report.put("object", "usage");
		report.put("tenant", tenantId);
		report.put("month", month.toString());
		report.put("totals", totals(records));
		report.put("data", records.stream().map(UsageReports::row).toList());
		if (spill != null) {
			report.put("spill", spill(spill));
		}
		return report;
	}

	/**
	 * A tenant's spill spend as JSON: {@code spend_usd}, {@code cap_usd} (its own cap,
	 * {@code null} for none) and {@code global_cap_usd}.
	 */
	static Map<String, Object> spill(TenantSpend.Spend spill) {
		Map<String, Object> view = new LinkedHashMap<>();
		view.put("spend_usd", dollars(spill.dollars()));
		view.put("cap_usd", spill.cap());
		view.put("global_cap_usd", spill.globalCap());
		return view;
	}

	static Map<String, Object> totals(List<UsageRecord> records) {
		Map<String, Object> totals = new LinkedHashMap<>();
		totals.put("requests", records.stream().mapToLong(UsageRecord::requests).sum());
		totals.put("prompt_tokens", records.stream().mapToLong(UsageRecord::promptTokens).sum());
		totals.put("completion_tokens", records.stream().mapToLong(UsageRecord::completionTokens).sum());
		totals.put("total_tokens", records.stream().mapToLong(UsageRecord::totalTokens).sum());
		totals.put("gpu_seconds", seconds(records.stream().mapToDouble(UsageRecord::gpuSeconds).sum()));
		totals.put("gpu_cost_usd", dollars(records.stream().mapToDouble(UsageRecord::gpuCost).sum()));
		totals.put("hosted_requests", records.stream().mapToLong(UsageRecord::hostedRequests).sum());
		return totals;
	}

	private static Map<String, Object> row(UsageRecord r) {
		Map<String, Object> row = new LinkedHashMap<>();
		row.put("day", r.day().toString());
		row.put("tier", r.tier().name());
		row.put("model", r.model());
		row.put("requests", r.requests());
		row.put("prompt_tokens", r.promptTokens());
		row.put("completion_tokens", r.completionTokens());
		row.put("gpu_seconds", seconds(r.gpuSeconds()));
		row.put("gpu_cost_usd", dollars(r.gpuCost()));
		row.put("hosted_requests", r.hostedRequests());
		return row;
	}

	static String csv(List<UsageRecord> records) {
		StringBuilder csv = new StringBuilder(
				"day,tier,model,requests,prompt_tokens,completion_tokens,gpu_seconds,gpu_cost_usd,hosted_requests\r\n");
		for (UsageRecord r : records) {
			csv.append(r.day())
				.append(',')
				.append(r.tier())
				.append(',')
				.append(field(r.model()))
				.append(',')
				.append(r.requests())
				.append(',')
				.append(r.promptTokens())
				.append(',')
				.append(r.completionTokens())
				.append(',')
				.append(seconds(r.gpuSeconds()))
				.append(',')
				.append(dollars(r.gpuCost()))
				.append(',')
				.append(r.hostedRequests())
				.append("\r\n");
		}
		return csv.toString();
	}

	/** GPU-seconds to the millisecond. */
	static double seconds(double value) {
		return Math.round(value * 1000) / 1000.0;
	}

	/** US dollars to the millionth (a GPU-second of an A100 is about $0.0008). */
	static double dollars(double value) {
		return Math.round(value * 1_000_000) / 1_000_000.0;
	}

	/** RFC 4180 quoting, and no leading formula characters for spreadsheets. */
	private static String field(String value) {
		String safe = (!value.isEmpty() && "=+-@".indexOf(value.charAt(0)) >= 0) ? "'" + value : value;
		if (safe.contains(",") || safe.contains("\"") || safe.contains("\n") || safe.contains("\r")) {
			return "\"" + safe.replace("\"", "\"\"") + "\"";
		}
		return safe;
	}

}
