package dev.tiergate.dispatch;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

import jakarta.validation.constraints.NotNull;

/**
 * Request dispatch settings.
 *
 * @param maxQueueWait longest a request waits for a free slot before it is rejected with {@code queue_timeout}
 * @param retryAfter the {@code Retry-After} suggested to rejected callers
 */
@Validated
@ConfigurationProperties("tiergate.dispatch")
public record DispatchProperties(@DefaultValue("30s") @NotNull Duration maxQueueWait,
		@DefaultValue("1s") @NotNull Duration retryAfter) {

}
