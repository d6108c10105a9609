package dev.tiergate.tier;

import java.util.EnumMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.tiergate.problem.TiergateException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Tests for {@link Tiers} with a {@link TierSettingsStore}: the store is the source, the
 * properties only seed an empty one, a change is stored before it is in force, and a
 * stored document that breaks a rule is refused (last good kept, reported once).
 */
class TierSettingsStoreTests {

	private final InMemoryTierSettingsStore store = new InMemoryTierSettingsStore();

	private static Map<Tier, TierDefinition> withP0Share(double share) {
		Map<Tier, TierDefinition> definitions = new EnumMap<>(TierProperties.DEFAULTS);
		definitions.put(Tier.P0, definitions.get(Tier.P0).withReservedShare(share));
		return definitions;
	}

	@Test
	void theConfiguredDefinitionsSeedAnEmptyStore() {
		Tiers tiers = new Tiers(withP0Share(0.35));
		tiers.attach(this.store);
		assertThat(TierDocument.read(this.store.current().orElseThrow().document())).isEqualTo(withP0Share(0.35));
		assertThat(tiers.revision()).contains("1");
	}

	@Test
	void aStoredDocumentWinsOverTheConfiguredDefinitions() {
		this.store.edit(TierDocument.write(withP0Share(0.4)));
		Tiers tiers = new Tiers(withP0Share(0.1));
		tiers.attach(this.store);
		assertThat(tiers.get(Tier.P0).reservedShare()).isEqualTo(0.4);
		assertThat(TierDocument.read(this.store.current().orElseThrow().document()).get(Tier.P0).reservedShare())
			.isEqualTo(0.4);
	}

	@Test
	void aChangeIsStoredAndAChangeSeenInTheStoreIsApplied() {
		Tiers tiers = new Tiers(TierProperties.DEFAULTS);
		tiers.attach(this.store);
		tiers.update(Map.of(Tier.P0, new TierProperties.Override(0.45, null, null, null, null, null)));
		assertThat(TierDocument.read(this.store.current().orElseThrow().document()).get(Tier.P0).reservedShare())
			.isEqualTo(0.45);
		this.store.edit(TierDocument.write(withP0Share(0.2)));
		assertThat(tiers.get(Tier.P0).reservedShare()).isEqualTo(0.2);
	}

	@Test
	void aChangeTheStoreRefusesIsNotInForce() {
		Tiers tiers = new Tiers(TierProperties.DEFAULTS);
		tiers.attach(this.store);
		this.store.refuseWrites(new InvalidTierException("leader", "not the leader"));
		assertThatThrownBy(
				() -> tiers.update(Map.of(Tier.P0, new TierProperties.Override(0.45, null, null, null, null, null))))
			.isInstanceOf(TiergateException.class);
		assertThat(tiers.get(Tier.P0).reservedShare()).isEqualTo(0.30);
	}

	@Test
	void anInvalidStoredDocumentIsRefusedAndTheLastGoodDefinitionsStay() {
		Tiers tiers = new Tiers(TierProperties.DEFAULTS);
		tiers.attach(this.store);
		String good = this.store.current().orElseThrow().document();
		this.store.edit(good.replace("\"reservedShare\" : 0.3", "\"reservedShare\" : 1.5"));
		assertThat(tiers.get(Tier.P0).reservedShare()).isEqualTo(0.30);
		assertThat(tiers.rejection()).hasValueSatisfying((r) -> {
			assertThat(r.revision()).isEqualTo("2");
			assertThat(r.reason()).startsWith("P0.reservedShare: ");
		});
		this.store.edit("{ not json");
		this.store.edit(good.replace("\n  \"P2\" :", "\n  \"P9\" :"));
		assertThat(this.store.rejected).hasSize(3);
		assertThat(this.store.rejected.get(1)).startsWith("3: tiers.json: is not JSON");
		assertThat(this.store.rejected.get(2)).startsWith("4: P9: is not a tier");
		this.store.edit(good.replace("\"reservedShare\" : 0.3", "\"reservedShare\" : 0.25"));
		assertThat(tiers.rejection()).isEmpty();
		assertThat(tiers.get(Tier.P0).reservedShare()).isEqualTo(0.25);
	}

	@Test
	void aDocumentMustHoldEveryTier() {
		String document = TierDocument.write(TierProperties.DEFAULTS);
		Map<Tier, TierDefinition> twoTiers = new EnumMap<>(TierProperties.DEFAULTS);
		twoTiers.remove(Tier.P2);
		String withoutP2 = TierDocument.write(twoTiers);
		assertThatThrownBy(() -> TierDocument.read(withoutP2)).isInstanceOf(InvalidTierException.class)
			.hasMessageContaining("is missing");
		assertThat(TierDocument.read(document)).isEqualTo(TierProperties.DEFAULTS);
	}

}
