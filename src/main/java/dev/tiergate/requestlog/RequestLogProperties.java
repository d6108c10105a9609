package dev.tiergate.requestlog;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Positive;

/**
 * The request log.
 *
 * @param enabled whether completed requests are recorded
 * @param keyPrefix prefix of the Redis streams, one per day of arrival (UTC), e.g.
 * {@code tg:requestlog:2026-11-29}
 * @param maxPerDay about how many records one day's stream keeps (approximate
 * {@code MAXLEN}); older ones are trimmed first
 * @param retention how long a day's stream is kept after the day ends
 * @param buffer records held in memory between writes; past it, records are dropped and
 * counted ({@code tiergate.requestlog.dropped})
 * @param batchSize most records written in one pipelined round trip
 * @param flushInterval longest a record waits in memory before it is written
 */
@Validated
@ConfigurationProperties("tiergate.request-log")
public record RequestLogProperties(@DefaultValue("true") boolean enabled,
		@DefaultValue("tg:requestlog:") @NotBlank String keyPrefix, @DefaultValue("2000000") @Positive long maxPerDay,
		@DefaultValue("8d") @NotNull Duration retention, @DefaultValue("10000") @Positive int buffer,
		@DefaultValue("500") @Positive int batchSize, @DefaultValue("1s") @NotNull Duration flushInterval) {

}
