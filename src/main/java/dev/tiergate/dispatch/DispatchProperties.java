package dev.tiergate.dispatch;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;

/**
 * Request dispatch settings (tiers themselves are under {@code tiergate.tiers}).
 *
 * @param preemptionBudget how many times one request may be preempted before it is no
 * longer preemptible (0 turns preemption and borrowing off)
 * @param maxQueuedPerPool most requests waiting in one pool across tiers; beyond it the
 * lowest tier is shed first
 * @param retryAfter the {@code Retry-After} suggested to callers turned away for overload
 * or capacity
 */
@Validated
@ConfigurationProperties("tiergate.dispatch")
public record DispatchProperties(@DefaultValue("2") @Min(0) @Max(100) int preemptionBudget,
		@DefaultValue("100000") @Min(1) int maxQueuedPerPool, @DefaultValue("1s") @NotNull Duration retryAfter) {

}
