package dev.tiergate.batch;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;

/**
 * Batch work: the Files API's limits and the workers that run batch items.
 *
 * @param maxFileSize largest file {@code POST /v1/files} accepts (default 100MB, as
 * OpenAI's batch input limit was once); a larger one is refused with 400
 * {@code file_too_large} (or 413 when the whole upload is far beyond it)
 * @param chunkSize size of the pieces a file is stored in (no Redis value is larger),
 * 64KB to 8MB
 * @param maxItems most requests in one batch input file (OpenAI allows 50,000)
 * @param maxLineErrors most invalid lines a refused file's message lists
 */
@Validated
@ConfigurationProperties("tiergate.batch")
public record BatchProperties(@DefaultValue("100MB") @NotNull DataSize maxFileSize,
		@DefaultValue("1MB") @NotNull DataSize chunkSize, @DefaultValue("50000") @Min(1) @Max(1_000_000) int maxItems,
		@DefaultValue("20") @Min(1) @Max(1000) int maxLineErrors) {

	public BatchProperties {
		if (chunkSize.toBytes() < 64 * 1024 || chunkSize.toBytes() > 8 * 1024 * 1024) {
			throw new IllegalArgumentException(
					"tiergate.batch.chunk-size must be between 64KB and 8MB (was " + chunkSize + ")");
		}
		if (maxFileSize.toBytes() < 1) {
			throw new IllegalArgumentException("tiergate.batch.max-file-size must be positive");
		}
	}

}
