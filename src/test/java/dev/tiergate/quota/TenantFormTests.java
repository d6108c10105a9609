package dev.tiergate.quota;

import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

import dev.tiergate.tier.Tier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Tests for {@link TenantForm}.
 */
class TenantFormTests {

	@Test
	void blankFieldsMeanDefaultsAndNoLimits() {
		Tenant tenant = new TenantForm("team-a", " ", List.of("P2", "P1"), "", "", "", " ", "", "", "", "").toRequest()
			.toTenant(null);
		assertThat(tenant.displayName()).isEqualTo("team-a");
		assertThat(tenant.allowedTiers()).containsExactly(Tier.P1, Tier.P2);
		assertThat(tenant.defaultTier()).isEqualTo(Tier.P1);
		assertThat(tenant.weight()).isEqualTo(1);
		assertThat(tenant.limits()).isEqualTo(Limits.NONE);
	}

	@Test
	void aTenantFillsTheFormItWasMadeFrom() {
		Tenant tenant = new Tenant("team-a", "Team A", Set.of(Tier.P0, Tier.P2), Tier.P2, 7,
				new Limits(10L, null, 3L, null));
		assertThat(TenantForm.of(tenant).toRequest().toTenant("team-a")).isEqualTo(tenant);
	}

	@Test
	void textThatIsNotANumberIsRefusedNamingTheField() {
		TenantForm form = new TenantForm("team-a", "", List.of("P1"), "", "1", "", "lots", "", "", "", "");
		assertThatExceptionOfType(InvalidTenantException.class).isThrownBy(form::toRequest)
			.satisfies((ex) -> assertThat(ex.field()).isEqualTo("limits.tokensPerMinute"))
			.withMessageContaining("must be a whole number");
	}

	@Test
	void outOfRangeNumbersAreLeftToTheTenantsOwnRules() {
		TenantForm form = new TenantForm("team-a", "", List.of("P1"), "", "99999999999", "-5", "", "", "", "", "");
		assertThatExceptionOfType(InvalidTenantException.class).isThrownBy(() -> form.toRequest().toTenant(null))
			.satisfies((ex) -> assertThat(ex.field()).isEqualTo("limits.requestsPerMinute"));
		TenantForm heavy = new TenantForm("team-a", "", List.of("P1"), "", "99999999999", "", "", "", "", "", "");
		assertThatExceptionOfType(InvalidTenantException.class).isThrownBy(() -> heavy.toRequest().toTenant(null))
			.satisfies((ex) -> assertThat(ex.field()).isEqualTo("weight"));
	}

}
