package dev.tiergate.replicas;

import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

import jakarta.validation.ConstraintViolation;
import jakarta.validation.Validation;
import jakarta.validation.Validator;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for binding and validating {@link ReplicasProperties}: how long a starting
 * replica's readiness waits for its first slots, and a wait that is not positive refused
 * with a message that names the setting.
 */
class ReplicasPropertiesBindingTests {

	private static final Validator validator = Validation.buildDefaultValidatorFactory().getValidator();

	private static ReplicasProperties bind(Map<String, String> properties) {
		return new Binder(new MapConfigurationPropertySource(properties)).bindOrCreate("tiergate.replicas",
				ReplicasProperties.class);
	}

	@Test
	void aStartingReplicaWaitsAMinuteAtMostForItsFirstSlots() {
		ReplicasProperties properties = bind(Map.of());
		assertThat(properties.readyWithin()).isEqualTo(Duration.ofSeconds(60));
		assertThat(validator.validate(properties)).isEmpty();
		assertThat(bind(Map.of("tiergate.replicas.ready-within", "5m")).readyWithin()).isEqualTo(Duration.ofMinutes(5));
	}

	@Test
	void refusesAReadyWithinThatIsNotPositive() {
		for (String value : new String[] { "0s", "-5s" }) {
			assertThat(validator.validate(bind(Map.of("tiergate.replicas.ready-within", value)))).as(value)
				.extracting(ConstraintViolation::getMessage)
				.containsExactly("tiergate.replicas.ready-within must be positive");
		}
	}

}
