package dev.tiergate.web;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

import jakarta.validation.constraints.NotNull;

/**
 * How a replica stops on SIGTERM (see {@link GracefulShutdown}).
 *
 * @param drainDelay how long the replica keeps serving with its readiness down before it
 * stops taking connections, so that endpoints and load balancers stop sending it requests
 * first (the chart sets 5s; 0 outside Kubernetes)
 */
@Validated
@ConfigurationProperties("tiergate.shutdown")
public record ShutdownProperties(@DefaultValue("0s") @NotNull Duration drainDelay) {

}
