package dev.tiergate.cost;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;

import dev.tiergate.tier.Tier;
import dev.tiergate.tier.TierDefinition;
import dev.tiergate.tier.TierProperties;
import tools.jackson.core.JacksonException;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads the JSON files the command line takes (fleet, tiers, prices) and writes reports
 * as JSON.
 */
public final class SimulationFiles {

	/** The mapper for settings and reports. */
	public static final JsonMapper JSON = JsonMapper.builder()
		.enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
		.enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
		.build();

	private SimulationFiles() {
	}

	/**
	 * Reads a fleet, e.g.
	 * {@code {"gpu":"NVIDIA-A100-SXM4-80GB","gpus":8,"sharing":"MPS","replicas":4,"models":[{"model":"llama-3.1-8b-instruct","sliceShare":1,"slots":8}]}}.
	 * @param file the file
	 * @return the fleet
	 * @throws IllegalArgumentException saying what is wrong
	 */
	public static FleetSpec fleet(Path file) {
		return read(file, FleetSpec.class);
	}

	/**
	 * Reads tier changes in the shape {@code PUT /api/v1/tiers} takes, e.g.
	 * {@code {"P0":{"reservedShare":0.4}}}, applied to the default tiers.
	 * @param file the file
	 * @return the tier definitions
	 * @throws IllegalArgumentException saying what is wrong
	 */
	public static Map<Tier, TierDefinition> tiers(Path file) {
		Map<Tier, TierProperties.Override> changes = read(file, new TypeReference<>() {
		});
		return applyTiers(changes);
	}

	/**
	 * Applies tier changes to the default tiers.
	 * @param changes per tier, the fields to change
	 * @return the tier definitions
	 */
	public static Map<Tier, TierDefinition> applyTiers(Map<Tier, TierProperties.Override> changes) {
		Map<Tier, TierDefinition> tiers = new EnumMap<>(TierProperties.DEFAULTS);
		if (changes != null) {
			changes.forEach((tier, change) -> {
				if (change != null) {
					tiers.put(tier, change.applyTo(tiers.get(tier)));
				}
			});
		}
		return tiers;
	}

	/**
	 * Reads a price sheet.
	 * @param file the file
	 * @return the sheet
	 * @throws IllegalArgumentException saying what is wrong
	 */
	public static PriceSheet prices(Path file) {
		return read(file, PriceSheet.class);
	}

	private static <T> T read(Path file, Class<T> type) {
		try {
			return JSON.readValue(Files.readString(file), type);
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Cannot read " + file + ": " + ex.getMessage(), ex);
		}
		catch (JacksonException ex) {
			throw new IllegalArgumentException(file.getFileName() + ": " + describe(ex), ex);
		}
	}

	private static <T> T read(Path file, TypeReference<T> type) {
		try {
			return JSON.readValue(Files.readString(file), type);
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Cannot read " + file + ": " + ex.getMessage(), ex);
		}
		catch (JacksonException ex) {
			throw new IllegalArgumentException(file.getFileName() + ": " + describe(ex), ex);
		}
	}

	/**
	 * A JSON error as one line: the field path and the problem, the cause's message when
	 * a constructor refused a value.
	 * @param ex the error
	 * @return the message
	 */
	public static String describe(JacksonException ex) {
		Throwable cause = ex.getCause();
		String path = ex.getPathReference();
		if (cause instanceof IllegalArgumentException) {
			return cause.getMessage();
		}
		String message = ex.getOriginalMessage();
		int newline = message.indexOf('\n');
		if (newline > 0) {
			message = message.substring(0, newline);
		}
		return ((path != null && !path.isBlank()) ? "at " + path + ": " : "") + message;
	}

}
