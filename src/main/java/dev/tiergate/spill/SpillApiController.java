package dev.tiergate.spill;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

import dev.tiergate.audit.AuditLog;
import dev.tiergate.problem.InvalidRequestException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code GET /api/v1/spill}: this month's spill spend against the caps, the hosted
 * upstreams (never their keys) and the tier policies; {@code GET
 * /api/v1/spill/tenants/{tenant}}: one tenant's spend and cap; {@code PUT
 * /api/v1/spill/caps}: changes the caps, audited (e.g.
 * {@code {"monthlyCap":500,"tenantMonthlyCap":100,"tenantCaps":{"acme":250}}}; fields
 * left out keep their value).
 */
@RestController
class SpillApiController {

	private final SpillBudget budget;

	private final SpillProperties properties;

	private final AuditLog audit;

	private final JsonMapper json;

	SpillApiController(SpillBudget budget, SpillProperties properties, AuditLog audit, JsonMapper json) {
		this.budget = budget;
		this.properties = properties;
		this.audit = audit;
		this.json = json;
	}

	@GetMapping("/api/v1/spill")
	Map<String, Object> get() {
		SpillCaps caps = this.budget.caps();
		Map<String, Object> result = new LinkedHashMap<>();
		result.put("month", this.budget.month().toString());
		result.put("monthlyCap", caps.monthlyCap());
		result.put("spend", this.budget.globalSpend());
		result.put("tenantMonthlyCap", caps.tenantMonthlyCap());
		Map<String, Object> tenants = new TreeMap<>();
		caps.tenantCaps().keySet().forEach((tenant) -> tenants.put(tenant, tenant(tenant)));
		result.put("tenants", tenants);
		Map<String, Object> upstreams = new TreeMap<>();
		this.properties.upstreams().forEach((model, upstream) -> {
			Map<String, Object> view = new LinkedHashMap<>();
			view.put("baseUri", upstream.baseUri().toString());
			view.put("model", upstream.model());
			view.put("timeout", upstream.timeout().toString());
			upstreams.put(model, view);
		});
		result.put("upstreams", upstreams);
		Map<String, Object> tiers = new LinkedHashMap<>();
		for (dev.tiergate.tier.Tier tier : dev.tiergate.tier.Tier.values()) {
			SpillProperties.TierSpill policy = this.properties.tier(tier);
			tiers.put(tier.name(), Map.of("spill", policy.spill().name().toLowerCase(Locale.ROOT).replace('_', '-'),
					"spillAfter", policy.spillAfter().toString()));
		}
		result.put("tiers", tiers);
		return result;
	}

	@GetMapping("/api/v1/spill/tenants/{tenant}")
	Map<String, Object> tenant(@PathVariable String tenant) {
		double cap = this.budget.caps().tenantCap(tenant);
		Map<String, Object> result = new LinkedHashMap<>();
		result.put("tenant", tenant);
		result.put("month", this.budget.month().toString());
		result.put("cap", (cap < 0) ? null : cap);
		result.put("spend", this.budget.tenantSpend(tenant));
		return result;
	}

	@PutMapping("/api/v1/spill/caps")
	Map<String, Object> putCaps(@RequestBody JsonNode body) {
		SpillCaps before = this.budget.caps();
		SpillCaps after;
		try {
			after = new SpillCaps(body.has("monthlyCap") ? number(body, "monthlyCap") : before.monthlyCap(),
					body.has("tenantMonthlyCap")
							? (body.get("tenantMonthlyCap").isNull() ? null : number(body, "tenantMonthlyCap"))
							: before.tenantMonthlyCap(),
					body.has("tenantCaps") ? tenantCaps(body.get("tenantCaps")) : before.tenantCaps());
		}
		catch (IllegalArgumentException ex) {
			throw new InvalidRequestException(ex.getMessage().split(" ")[0], ex.getMessage());
		}
		this.budget.replaceCaps(after);
		// Kept in Redis: the same on every replica and after a restart.
		if (!after.equals(before)) {
			this.audit.record("spill", "update-caps", "caps", this.json.writeValueAsString(before),
					this.json.writeValueAsString(after));
		}
		return get();
	}

	private static double number(JsonNode body, String field) {
		JsonNode value = body.get(field);
		if (!value.isNumber()) {
			throw new IllegalArgumentException(field + " must be a number of US dollars between 0 and 1e9");
		}
		return value.asDouble();
	}

	private static Map<String, Double> tenantCaps(JsonNode node) {
		if (!node.isObject()) {
			throw new IllegalArgumentException("tenantCaps must be an object of tenant ids to US dollars");
		}
		Map<String, Double> caps = new TreeMap<>();
		for (Map.Entry<String, JsonNode> entry : node.properties()) {
			if (!entry.getValue().isNumber()) {
				throw new IllegalArgumentException(
						"tenantCaps." + entry.getKey() + " must be a number of US dollars between 0 and 1e9");
			}
			caps.put(entry.getKey(), entry.getValue().asDouble());
		}
		return caps;
	}

}
