package dev.tiergate.metering;

import java.net.URI;
import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Tests for binding {@link MetricsProperties}: no Prometheus by default, its address,
 * timeout and credentials, and the addresses refused at start.
 */
class MetricsPropertiesBindingTests {

	private static MetricsProperties bind(Map<String, String> properties) {
		return new Binder(new MapConfigurationPropertySource(properties)).bindOrCreate("tiergate.metrics",
				MetricsProperties.class);
	}

	@Test
	void noPrometheusByDefault() {
		MetricsProperties properties = bind(Map.of());
		assertThat(properties.prometheusEnabled()).isFalse();
		assertThat(properties.prometheusTimeout()).isEqualTo(Duration.ofSeconds(2));
	}

	@Test
	void bindsTheAddressTimeoutAndCredentialsWithoutPrintingThem() {
		MetricsProperties properties = bind(Map.of("tiergate.metrics.prometheus-url", "https://prom.example/sub/",
				"tiergate.metrics.prometheus-timeout", "750ms", "tiergate.metrics.prometheus-bearer-token", "s3cret"));
		assertThat(properties.prometheusEnabled()).isTrue();
		assertThat(properties.prometheusUrl()).isEqualTo(URI.create("https://prom.example/sub/"));
		assertThat(properties.prometheusTimeout()).isEqualTo(Duration.ofMillis(750));
		assertThat(properties.toString()).contains("auth=bearer").doesNotContain("s3cret");
	}

	@Test
	void refusesAnAddressThatIsNotHttpAndATimeoutThatIsNotPositive() {
		assertThatThrownBy(() -> bind(Map.of("tiergate.metrics.prometheus-url", "prometheus:9090")))
			.isInstanceOf(BindException.class)
			.rootCause()
			.hasMessageContaining("must be an http or https address");
		assertThatThrownBy(() -> bind(Map.of("tiergate.metrics.prometheus-url", "ftp://prometheus"))).rootCause()
			.hasMessageContaining("must be an http or https address");
		assertThatThrownBy(() -> bind(Map.of("tiergate.metrics.prometheus-timeout", "0s"))).rootCause()
			.hasMessageContaining("prometheus-timeout must be positive");
	}

}
