package dev.tiergate.proxy;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

import jakarta.validation.constraints.NotNull;

/**
 * The OpenAI-compatible front door.
 *
 * @param maxRequestSize largest request body accepted; larger ones get 413
 * @param upstreamConnectTimeout connect timeout to an inference endpoint
 * @param upstreamTimeout longest a whole upstream response may take
 * @param sendPriority whether to pass the tier to endpoints as vLLM's {@code priority} field (only for engines
 * started with {@code --scheduling-policy priority}; others reject the field)
 */
@Validated
@ConfigurationProperties("tiergate.proxy")
public record ProxyProperties(@DefaultValue("1MB") @NotNull DataSize maxRequestSize,
		@DefaultValue("2s") @NotNull Duration upstreamConnectTimeout,
		@DefaultValue("10m") @NotNull Duration upstreamTimeout, @DefaultValue("false") boolean sendPriority) {

}
