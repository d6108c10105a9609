package dev.tiergate.metering;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.PositiveOrZero;

/**
 * GPU metering.
 *
 * @param enabled whether lease time is attributed and stored as GPU-seconds
 * @param flushInterval how often attributed GPU-seconds are added to the tenants' usage
 * in Redis (one pipelined write per interval); running leases are charged up to each
 * flush
 */
@Validated
@ConfigurationProperties("tiergate.metering")
public record MeteringProperties(@DefaultValue("true") boolean enabled,
		@DefaultValue("15s") @NotNull Duration flushInterval,
		@DefaultValue("100") @PositiveOrZero int maxTenantLabels) {

}
