package dev.tiergate.proxy;

import java.util.EnumSet;

import org.junit.jupiter.api.Test;

import dev.tiergate.tier.Tier;
import dev.tiergate.quota.Tenant;
import tools.jackson.databind.node.JsonNodeFactory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Tests for {@link TierSelection}.
 */
class TierSelectionTests {

	private static final JsonNodeFactory nodes = JsonNodeFactory.instance;

	private final Tenant acme = new Tenant("acme", "Acme", EnumSet.allOf(Tier.class), Tier.P1, 1);

	private final Tenant batch = new Tenant("batchco", "Batch", EnumSet.of(Tier.P1, Tier.P2), Tier.P2, 1);

	@Test
	void headerWinsOverServiceTier() {
		assertThat(TierSelection.select("p0", nodes.stringNode("flex"), this.acme)).isEqualTo(Tier.P0);
	}

	@Test
	void serviceTierMapsToTiers() {
		assertThat(TierSelection.select(null, nodes.stringNode("priority"), this.acme)).isEqualTo(Tier.P0);
		assertThat(TierSelection.select(null, nodes.stringNode("flex"), this.acme)).isEqualTo(Tier.P2);
		assertThat(TierSelection.select(null, nodes.stringNode("auto"), this.acme)).isEqualTo(Tier.P1);
		assertThat(TierSelection.select(null, nodes.stringNode("default"), this.batch)).isEqualTo(Tier.P2);
	}

	@Test
	void withoutEitherTheTenantsDefaultApplies() {
		assertThat(TierSelection.select(null, null, this.batch)).isEqualTo(Tier.P2);
		assertThat(TierSelection.select(null, nodes.nullNode(), this.acme)).isEqualTo(Tier.P1);
	}

	@Test
	void invalidHeaderOrServiceTierIsABadRequest() {
		assertThatThrownBy(() -> TierSelection.select("P7", null, this.acme)).isInstanceOf(OpenAiException.class)
			.satisfies((ex) -> assertThat(((OpenAiException) ex).status()).isEqualTo(400));
		assertThatThrownBy(() -> TierSelection.select(null, nodes.stringNode("turbo"), this.acme))
			.satisfies((ex) -> assertThat(((OpenAiException) ex).code()).isEqualTo("invalid_service_tier"));
		assertThatThrownBy(() -> TierSelection.select(null, nodes.numberNode(1), this.acme))
			.satisfies((ex) -> assertThat(((OpenAiException) ex).status()).isEqualTo(400));
	}

	@Test
	void aTierTheTenantMayNotUseIsForbidden() {
		assertThatThrownBy(() -> TierSelection.select("P0", null, this.batch))
			.satisfies((ex) -> assertThat(((OpenAiException) ex).status()).isEqualTo(403))
			.satisfies((ex) -> assertThat(((OpenAiException) ex).code()).isEqualTo("tier_not_allowed"));
		assertThatThrownBy(() -> TierSelection.select(null, nodes.stringNode("priority"), this.batch))
			.satisfies((ex) -> assertThat(((OpenAiException) ex).status()).isEqualTo(403));
	}

}
