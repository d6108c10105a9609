package dev.tiergate.quota;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.springframework.core.io.ClassPathResource;

import dev.tiergate.tier.Tier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Tests for {@link TenantForm}.
 */
class TenantFormTests {

	@Test
	void blankFieldsMeanDefaultsAndNoLimits() {
		Tenant tenant = new TenantForm("team-a", " ", List.of("P2", "P1"), "", "", "", " ", "", "", "", "", false)
			.toRequest()
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
		TenantForm form = new TenantForm("team-a", "", List.of("P1"), "", "1", "", "lots", "", "", "", "", false);
		assertThatExceptionOfType(InvalidTenantException.class).isThrownBy(form::toRequest)
			.satisfies((ex) -> assertThat(ex.field()).isEqualTo("limits.tokensPerMinute"))
			.withMessageContaining("must be a whole number");
	}

	@Test
	void outOfRangeNumbersAreLeftToTheTenantsOwnRules() {
		TenantForm form = new TenantForm("team-a", "", List.of("P1"), "", "99999999999", "-5", "", "", "", "", "",
				false);
		assertThatExceptionOfType(InvalidTenantException.class).isThrownBy(() -> form.toRequest().toTenant(null))
			.satisfies((ex) -> assertThat(ex.field()).isEqualTo("limits.requestsPerMinute"));
		TenantForm heavy = new TenantForm("team-a", "", List.of("P1"), "", "99999999999", "", "", "", "", "", "",
				false);
		assertThatExceptionOfType(InvalidTenantException.class).isThrownBy(() -> heavy.toRequest().toTenant(null))
			.satisfies((ex) -> assertThat(ex.field()).isEqualTo("weight"));
	}

	@Test
	void everyLimitTheServerRefusesIsHighlightedOnItsInput() throws Exception {
		String template;
		try (InputStream in = new ClassPathResource("templates/quota/tenant-form.html").getInputStream()) {
			template = new String(in.readAllBytes(), StandardCharsets.UTF_8);
		}
		List<InvalidTenantException> refusals = new ArrayList<>();
		for (int i = 0; i < 5; i++) {
			Long[] values = new Long[5];
			values[i] = -1L;
			try {
				new Limits(values[0], values[1], values[2], values[3], values[4]);
			}
			catch (InvalidTenantException ex) {
				refusals.add(ex);
			}
		}
		assertThat(refusals).hasSize(5);
		for (InvalidTenantException refusal : refusals) {
			String field = QuotaPageController.FormError.of(refusal).field();
			Matcher input = Pattern.compile("<input[^>]*name=\"" + field + "\"[^>]*>").matcher(template);
			assertThat(input.find()).as("an input named " + field).isTrue();
			assertThat(input.group()).as("the input of " + refusal.field())
				.contains("formError.field == '" + field + "'");
		}
	}

}
