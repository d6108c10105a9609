package dev.tiergate.batch;

import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.bind.validation.ValidationBindHandler;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.validation.beanvalidation.SpringValidatorAdapter;

import jakarta.validation.Validation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Tests for {@link BatchProperties#prefetchFor(int, int)}: how many items the workers
 * take beyond a pool's room.
 */
class BatchPrefetchTests {

	private static BatchProperties bind(Map<String, String> properties) {
		return new Binder(new MapConfigurationPropertySource(properties)).bindOrCreate("tiergate.batch",
				BatchProperties.class);
	}

	@Test
	void aPoolThatRunsNothingAndHasNoRoomGetsNone() {
		assertThat(bind(Map.of()).prefetchFor(0, 0)).isZero();
	}

	@Test
	void atLeastThePrefetchThenOnePerRunningRequest() {
		BatchProperties defaults = bind(Map.of());
		assertThat(defaults.prefetchFor(4, 0)).isEqualTo(8);
		assertThat(defaults.prefetchFor(0, 3)).isEqualTo(8);
		assertThat(defaults.prefetchFor(0, 160)).isEqualTo(160);
		assertThat(defaults.prefetchFor(12, 148)).isEqualTo(148);
	}

	@Test
	void theRatioAndTheLeastAreSettingsAndZeroTurnsItOff() {
		BatchProperties half = bind(Map.of("tiergate.batch.prefetch", "2", "tiergate.batch.prefetch-per-lease", "0.5"));
		assertThat(half.prefetchFor(0, 3)).isEqualTo(2);
		assertThat(half.prefetchFor(0, 7)).isEqualTo(4);
		BatchProperties off = bind(Map.of("tiergate.batch.prefetch", "0", "tiergate.batch.prefetch-per-lease", "0"));
		assertThat(off.prefetchFor(0, 160)).isZero();
		assertThat(off.prefetchFor(10, 0)).isZero();
	}

	@Test
	void aRatioOutOfRangeStopsTheStartWithTheSettingNamed() {
		Binder binder = new Binder(
				new MapConfigurationPropertySource(Map.of("tiergate.batch.prefetch-per-lease", "-0.5")));
		SpringValidatorAdapter validator = new SpringValidatorAdapter(
				Validation.buildDefaultValidatorFactory().getValidator());
		assertThatThrownBy(() -> binder.bindOrCreate("tiergate.batch", Bindable.of(BatchProperties.class),
				new ValidationBindHandler(validator)))
			.isInstanceOf(BindException.class)
			.rootCause()
			.hasMessageContaining("prefetchPerLease");
	}

}
