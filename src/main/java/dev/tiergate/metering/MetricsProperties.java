package dev.tiergate.metering;

import java.net.URI;
import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

import jakarta.validation.constraints.NotNull;

/**
 * Where the overview's GPU history comes from.
 *
 * @param prometheusUrl base address of a Prometheus server that scrapes every replica's
 * {@code /actuator/prometheus} (such as {@code http://prometheus:9090}, a path prefix
 * included if it has one); when set, the last hour of GPU utilization and slot occupancy
 * is read from its {@code /api/v1/query_range}, the same for every replica and complete
 * right after a replica's start; unset (the default), each replica shows what it kept in
 * memory since its start
 * @param prometheusTimeout longest one history read from Prometheus may take, the body
 * included; past it, the replica's own history is shown with a warning
 * @param prometheusBearerToken sent as {@code Authorization: Bearer} to Prometheus, if
 * set (wins over the username and password)
 * @param prometheusUsername HTTP Basic user for Prometheus, if set
 * @param prometheusPassword HTTP Basic password for Prometheus
 */
@Validated
@ConfigurationProperties("tiergate.metrics")
public record MetricsProperties(URI prometheusUrl, @DefaultValue("2s") @NotNull Duration prometheusTimeout,
		String prometheusBearerToken, String prometheusUsername, String prometheusPassword) {

	/**
	 * Checks the settings.
	 * @throws IllegalArgumentException for an address that is not absolute HTTP(S) or a
	 * timeout that is not positive
	 */
	public MetricsProperties {
		if (prometheusTimeout != null && !prometheusTimeout.isPositive()) {
			throw new IllegalArgumentException("tiergate.metrics.prometheus-timeout must be positive");
		}
		if (prometheusUrl != null && !prometheusUrl.toString().isBlank()) {
			String scheme = prometheusUrl.getScheme();
			if (!("http".equalsIgnoreCase(scheme) || "https".equalsIgnoreCase(scheme))
					|| prometheusUrl.getHost() == null || prometheusUrl.getRawQuery() != null) {
				throw new IllegalArgumentException("tiergate.metrics.prometheus-url must be an http or https "
						+ "address without a query, such as http://prometheus:9090, not " + prometheusUrl);
			}
		}
	}

	/**
	 * Whether a Prometheus server is configured.
	 * @return whether {@code prometheus-url} is set
	 */
	public boolean prometheusEnabled() {
		return this.prometheusUrl != null && !this.prometheusUrl.toString().isBlank();
	}

	@Override
	public String toString() {
		return "MetricsProperties[prometheusUrl=" + this.prometheusUrl + ", prometheusTimeout=" + this.prometheusTimeout
				+ ", auth=" + ((this.prometheusBearerToken != null) ? "bearer"
						: (this.prometheusUsername != null) ? "basic" : "none")
				+ "]";
	}

}
