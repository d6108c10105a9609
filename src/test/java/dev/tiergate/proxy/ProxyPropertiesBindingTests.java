package dev.tiergate.proxy;

import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.validation.BindValidationException;

import dev.tiergate.ValidatedBinding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Tests for binding {@link ProxyProperties} as the application does: the timeouts' and
 * the probe interval's defaults, and zero or negative durations refused at start with the
 * setting's name.
 */
class ProxyPropertiesBindingTests {

	private static ProxyProperties bind(Map<String, String> properties) {
		return ValidatedBinding.bind("tiergate.proxy", ProxyProperties.class, properties);
	}

	@Test
	void defaults() {
		ProxyProperties properties = bind(Map.of());
		assertThat(properties.upstreamIdleTimeout()).isEqualTo(Duration.ofSeconds(60));
		assertThat(properties.clientProbeInterval()).isEqualTo(Duration.ofSeconds(1));
		assertThat(Sweeper.tickFor(properties.clientProbeInterval())).isEqualTo(Sweeper.MAX_TICK);
		assertThat(Sweeper.tickFor(Duration.ofMillis(20))).isEqualTo(Duration.ofMillis(20));
	}

	@Test
	void refusesZeroOrNegativeDurationsNamingThem() {
		for (String name : new String[] { "upstream-connect-timeout", "upstream-timeout", "upstream-idle-timeout",
				"client-probe-interval" }) {
			for (String value : new String[] { "0s", "-1s" }) {
				assertThatThrownBy(() -> bind(Map.of("tiergate.proxy." + name, value)))
					.isInstanceOf(BindException.class)
					.rootCause()
					.hasMessage("tiergate.proxy." + name + " must be positive (was "
							+ Duration.parse(value.equals("0s") ? "PT0S" : "PT-1S") + ")");
			}
		}
	}

	@Test
	void theOpenRequestLimitComesFromTheHeapUnlessSet() {
		long gigabyte = 1024L * 1024 * 1024;
		assertThat(bind(Map.of()).maxOpenRequests()).isZero();
		assertThat(bind(Map.of()).openRequestLimit(gigabyte)).isEqualTo(8192);
		assertThat(bind(Map.of("tiergate.proxy.max-open-requests", "500")).openRequestLimit(gigabyte)).isEqualTo(500);
	}

	@Test
	void refusesAnOpenRequestLimitOutOfRangeNamingIt() {
		for (String value : new String[] { "-1", "10000001" }) {
			assertThatThrownBy(() -> bind(Map.of("tiergate.proxy.max-open-requests", value))).as(value)
				.isInstanceOf(BindException.class)
				.cause()
				.isInstanceOf(BindValidationException.class)
				.hasMessageContaining("maxOpenRequests");
		}
		assertThatThrownBy(() -> bind(Map.of("tiergate.proxy.max-open-requests", "many")))
			.isInstanceOf(BindException.class)
			.hasMessageContaining("tiergate.proxy.max-open-requests");
	}

}
