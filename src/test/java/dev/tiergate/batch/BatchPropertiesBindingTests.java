package dev.tiergate.batch;

import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Tests for binding {@link BatchProperties}' polls: their defaults, and a poll interval
 * that is not positive refused with a message that names the setting.
 */
class BatchPropertiesBindingTests {

	private static BatchProperties bind(Map<String, String> properties) {
		return new Binder(new MapConfigurationPropertySource(properties)).bindOrCreate("tiergate.batch",
				BatchProperties.class);
	}

	@Test
	void pollsEvery50msWhileBatchesAreUnfinishedAndEverySecondWhenIdle() {
		BatchProperties properties = bind(Map.of());
		assertThat(properties.pollInterval()).isEqualTo(Duration.ofMillis(50));
		assertThat(properties.idlePollInterval()).isEqualTo(Duration.ofSeconds(1));
		assertThat(bind(Map.of("tiergate.batch.idle-poll-interval", "10m")).idlePollInterval())
			.isEqualTo(Duration.ofMinutes(10));
	}

	@Test
	void refusesAnIdlePollIntervalThatIsNotPositive() {
		for (String value : new String[] { "0s", "-1s" }) {
			assertThatThrownBy(() -> bind(Map.of("tiergate.batch.idle-poll-interval", value)))
				.isInstanceOf(BindException.class)
				.rootCause()
				.hasMessageContaining("tiergate.batch durations must be positive");
		}
	}

}
