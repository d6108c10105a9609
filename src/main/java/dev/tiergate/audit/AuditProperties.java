package dev.tiergate.audit;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Positive;

/**
 * Where the audit log lives.
 *
 * @param key the Redis stream that holds the entries
 * @param maxEntries about how many entries the stream keeps; older ones are trimmed
 */
@Validated
@ConfigurationProperties("tiergate.audit")
public record AuditProperties(@DefaultValue("tg:audit:log") @NotBlank String key,
		@DefaultValue("100000") @Positive long maxEntries) {

}
