package dev.tiergate.quota;

import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.validation.BindValidationException;

import dev.tiergate.ValidatedBinding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Tests for binding {@link QuotaProperties} as the application does, with its bean
 * validation: the settling defaults and the values refused at start.
 */
class QuotaPropertiesBindingTests {

	private static QuotaProperties bind(Map<String, String> properties) {
		return ValidatedBinding.bind("tiergate.quota", QuotaProperties.class, properties);
	}

	@Test
	void requestsSettleOffTheirThreadsByDefaultAndInlineWithZero() {
		assertThat(bind(Map.of()).settlementBatch()).isEqualTo(256);
		assertThat(QuotaProperties.defaults().settlementBatch()).isEqualTo(256);
		assertThat(bind(Map.of("tiergate.quota.settlement-batch", "0")).settlementBatch()).isZero();
	}

	@Test
	void refusesASettlementBatchOutOfRangeNamingIt() {
		for (String value : new String[] { "-1", "10001" }) {
			assertThatThrownBy(() -> bind(Map.of("tiergate.quota.settlement-batch", value)))
				.isInstanceOf(BindException.class)
				.cause()
				.isInstanceOf(BindValidationException.class)
				.hasMessageContaining("settlementBatch");
		}
	}

	@Test
	void theFirstSettlementAfterAnIdleMomentLingersFiveMillisecondsByDefault() {
		assertThat(bind(Map.of()).settlementLinger()).isEqualTo(java.time.Duration.ofMillis(5));
		assertThat(QuotaProperties.defaults().settlementLinger()).isEqualTo(java.time.Duration.ofMillis(5));
		assertThat(bind(Map.of("tiergate.quota.settlement-linger", "0")).settlementLinger()).isZero();
	}

	@Test
	void refusesASettlementLingerOutOfRangeNamingIt() {
		for (String value : new String[] { "-1ms", "2s" }) {
			assertThatThrownBy(() -> bind(Map.of("tiergate.quota.settlement-linger", value)))
				.isInstanceOf(BindException.class)
				.rootCause()
				.hasMessageStartingWith("tiergate.quota.settlement-linger must be between 0 and 1s, not ");
		}
	}

}
