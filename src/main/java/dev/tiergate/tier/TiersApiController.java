package dev.tiergate.tier;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

import dev.tiergate.audit.AuditLog;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code GET/PUT /api/v1/tiers}: the tier definitions in force, and changes to them. A
 * PUT carries only what it changes, e.g. {@code {"P0":{"reservedShare":0.4}}}, and is
 * applied all or nothing.
 */
@RestController
class TiersApiController {

	private static final Set<String> FIELDS = Set.of("reservedShare", "maxQueueDepth", "maxQueueWait", "mayPreempt",
			"borrow", "priorityClass", "reservePlacement", "borrowPerEndpoint");

	private static final Set<String> CLASS_FIELDS = Set.of("name", "value", "preemptionPolicy");

	private final Tiers tiers;

	private final AuditLog audit;

	private final JsonMapper json;

	TiersApiController(Tiers tiers, AuditLog audit, JsonMapper json) {
		this.tiers = tiers;
		this.audit = audit;
		this.json = json;
	}

	@GetMapping("/api/v1/tiers")
	Map<String, Object> get() {
		return view(this.tiers.all());
	}

	@PutMapping("/api/v1/tiers")
	Map<String, Object> put(@RequestBody JsonNode body) {
		Map<Tier, TierProperties.Override> changes = changes(body);
		Map<String, Object> before = view(this.tiers.all());
		Map<String, Object> after = view(this.tiers.update(changes));
		if (!after.equals(before)) {
			this.audit.record("tier", "update", String.join(",", changes.keySet().stream().map(Tier::name).toList()),
					this.json.writeValueAsString(before), this.json.writeValueAsString(after));
		}
		return after;
	}

	static Map<String, Object> view(Map<Tier, TierDefinition> definitions) {
		Map<String, Object> result = new LinkedHashMap<>();
		definitions.forEach((tier, d) -> {
			Map<String, Object> fields = new LinkedHashMap<>();
			fields.put("reservedShare", d.reservedShare());
			fields.put("maxQueueDepth", d.maxQueueDepth());
			fields.put("maxQueueWait", d.maxQueueWait().toString());
			fields.put("mayPreempt", d.mayPreempt().stream().sorted().map(Tier::name).toList());
			fields.put("borrow", d.borrow());
			fields.put("reservePlacement", d.reservePlacement().value());
			fields.put("borrowPerEndpoint", d.borrowPerEndpoint());
			Map<String, Object> pc = new LinkedHashMap<>();
			pc.put("name", d.priorityClass().name());
			pc.put("value", d.priorityClass().value());
			pc.put("preemptionPolicy", d.priorityClass().preemptionPolicy());
			fields.put("priorityClass", pc);
			result.put(tier.name(), fields);
		});
		return result;
	}

	static Map<Tier, TierProperties.Override> changes(JsonNode body) {
		if (body == null || !body.isObject()) {
			throw new InvalidTierException("body", "must be a JSON object keyed by tier (P0, P1, P2)");
		}
		Map<Tier, TierProperties.Override> changes = new EnumMap<>(Tier.class);
		for (var entry : body.properties()) {
			Tier tier = Tier.parse(entry.getKey())
				.filter((t) -> t.name().equals(entry.getKey()))
				.orElseThrow(() -> new InvalidTierException(entry.getKey(), "is not a tier (P0, P1, P2)"));
			changes.put(tier, override(tier.name(), entry.getValue()));
		}
		return changes;
	}

	private static TierProperties.Override override(String tier, JsonNode node) {
		if (!node.isObject()) {
			throw new InvalidTierException(tier, "must be an object");
		}
		for (var field : node.properties()) {
			if (!FIELDS.contains(field.getKey())) {
				throw new InvalidTierException(tier + "." + field.getKey(), "is not a tier field " + FIELDS);
			}
		}
		Double share = null;
		if (node.has("reservedShare")) {
			JsonNode value = node.get("reservedShare");
			if (!value.isNumber()) {
				throw new InvalidTierException(tier + ".reservedShare", "must be a number");
			}
			share = value.asDouble();
		}
		Integer depth = null;
		if (node.has("maxQueueDepth")) {
			JsonNode value = node.get("maxQueueDepth");
			if (!value.isIntegralNumber() || !value.canConvertToInt()) {
				throw new InvalidTierException(tier + ".maxQueueDepth", "must be an integer");
			}
			depth = value.asInt();
		}
		Duration wait = null;
		if (node.has("maxQueueWait")) {
			JsonNode value = node.get("maxQueueWait");
			try {
				wait = Duration.parse(value.isString() ? value.asString() : "");
			}
			catch (DateTimeParseException ex) {
				throw new InvalidTierException(tier + ".maxQueueWait", "must be an ISO-8601 duration such as PT2S");
			}
		}
		Set<Tier> mayPreempt = null;
		if (node.has("mayPreempt")) {
			JsonNode value = node.get("mayPreempt");
			if (!value.isArray()) {
				throw new InvalidTierException(tier + ".mayPreempt", "must be a list of tiers");
			}
			mayPreempt = EnumSet.noneOf(Tier.class);
			for (JsonNode item : value) {
				String name = item.isString() ? item.asString() : "";
				mayPreempt.add(Tier.parse(name)
					.filter((t) -> t.name().equals(name))
					.orElseThrow(() -> new InvalidTierException(tier + ".mayPreempt", "'" + item + "' is not a tier")));
			}
		}
		Boolean borrow = null;
		if (node.has("borrow")) {
			if (!node.get("borrow").isBoolean()) {
				throw new InvalidTierException(tier + ".borrow", "must be true or false");
			}
			borrow = node.get("borrow").asBoolean();
		}
		TierProperties.PriorityClassOverride priorityClass = null;
		if (node.has("priorityClass")) {
			priorityClass = priorityClass(tier, node.get("priorityClass"));
		}
		ReservePlacement placement = null;
		if (node.has("reservePlacement")) {
			JsonNode value = node.get("reservePlacement");
			placement = ReservePlacement.parse(value.isString() ? value.asString() : "")
				.orElseThrow(() -> new InvalidTierException(tier + ".reservePlacement", "must be slots or endpoints"));
		}
		Integer borrowPerEndpoint = null;
		if (node.has("borrowPerEndpoint")) {
			JsonNode value = node.get("borrowPerEndpoint");
			if (!value.isIntegralNumber() || !value.canConvertToInt() || value.asInt() < 0 || value.asInt() > 1024) {
				throw new InvalidTierException(tier + ".borrowPerEndpoint", "must be an integer between 0 and 1024");
			}
			borrowPerEndpoint = value.asInt();
		}
		return new TierProperties.Override(share, depth, wait, mayPreempt, borrow, priorityClass, placement,
				borrowPerEndpoint);
	}

	private static TierProperties.PriorityClassOverride priorityClass(String tier, JsonNode node) {
		String at = tier + ".priorityClass";
		if (!node.isObject()) {
			throw new InvalidTierException(at, "must be an object");
		}
		List<String> unknown = new ArrayList<>();
		node.properties().forEach((f) -> {
			if (!CLASS_FIELDS.contains(f.getKey())) {
				unknown.add(f.getKey());
			}
		});
		if (!unknown.isEmpty()) {
			throw new InvalidTierException(at + "." + unknown.get(0), "is not a priorityClass field " + CLASS_FIELDS);
		}
		String name = null;
		if (node.has("name")) {
			if (!node.get("name").isString()) {
				throw new InvalidTierException(at + ".name", "must be a string");
			}
			name = node.get("name").asString();
		}
		Long value = null;
		if (node.has("value")) {
			if (!node.get("value").isIntegralNumber() || !node.get("value").canConvertToLong()) {
				throw new InvalidTierException(at + ".value", "must be an integer");
			}
			value = node.get("value").asLong();
		}
		String policy = null;
		if (node.has("preemptionPolicy")) {
			if (!node.get("preemptionPolicy").isString()) {
				throw new InvalidTierException(at + ".preemptionPolicy", "must be a string");
			}
			policy = node.get("preemptionPolicy").asString();
		}
		return new TierProperties.PriorityClassOverride(name, value, policy);
	}

}
