package dev.tiergate.tier;

import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for binding {@link TierProperties}: the overrides of {@code tiergate.tiers.*}
 * reach the definitions in force (they were silently dropped while the override record
 * had two constructors and none was marked for binding).
 */
class TierPropertiesBindingTests {

	@Test
	void overridesOfEachTierAreBoundWhateverTheCaseOfTheTierName() {
		MapConfigurationPropertySource source = new MapConfigurationPropertySource(
				Map.of("tiergate.tiers.P0.reserved-share", "0.35", "tiergate.tiers.p1.max-queue-wait", "7s",
						"tiergate.tiers.P2.priority-class.value", "50"));
		TierProperties properties = new Binder(source).bind("tiergate.tiers", TierProperties.class).get();
		Map<Tier, TierDefinition> effective = properties.effective();
		assertThat(effective.get(Tier.P0).reservedShare()).isEqualTo(0.35);
		assertThat(effective.get(Tier.P1).maxQueueWait()).isEqualTo(Duration.ofSeconds(7));
		assertThat(effective.get(Tier.P2).priorityClass().value()).isEqualTo(50);
		assertThat(effective.get(Tier.P2).priorityClass().name()).isEqualTo("batch-inference");
	}

}
