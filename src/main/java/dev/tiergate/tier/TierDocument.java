package dev.tiergate.tier;

import java.util.EnumMap;
import java.util.Map;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * The stored form of the tier definitions: the JSON of {@code GET /api/v1/tiers} (every
 * tier, every field), pretty-printed so that a kubectl edit is easy. Reading it applies
 * the same checks as {@code PUT /api/v1/tiers}, and every tier must be present.
 */
public final class TierDocument {

	private static final JsonMapper json = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

	private TierDocument() {
	}

	/**
	 * The document of some definitions.
	 * @param definitions one per tier
	 * @return the JSON text
	 */
	public static String write(Map<Tier, TierDefinition> definitions) {
		return json.writeValueAsString(TiersApiController.view(definitions)) + "\n";
	}

	/**
	 * The definitions a document holds, checked.
	 * @param document the JSON text
	 * @return one definition per tier
	 * @throws InvalidTierException naming the field at fault
	 */
	public static Map<Tier, TierDefinition> read(String document) {
		if (document == null || document.isBlank()) {
			throw new InvalidTierException("tiers.json", "is missing or empty");
		}
		JsonNode body;
		try {
			body = json.readTree(document);
		}
		catch (JacksonException ex) {
			throw new InvalidTierException("tiers.json", "is not JSON: " + ex.getOriginalMessage());
		}
		Map<Tier, TierProperties.Override> changes = TiersApiController.changes(body);
		Map<Tier, TierDefinition> result = new EnumMap<>(Tier.class);
		for (Tier tier : Tier.values()) {
			TierProperties.Override change = changes.get(tier);
			if (change == null) {
				throw new InvalidTierException(tier.name(), "is missing");
			}
			result.put(tier, change.applyTo(TierProperties.DEFAULTS.get(tier)));
		}
		Tiers.validate(result);
		return result;
	}

}
