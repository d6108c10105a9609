package dev.tiergate.security.internal;

import java.util.EnumSet;

import org.junit.jupiter.api.Test;

import dev.tiergate.quota.Limits;
import dev.tiergate.quota.Tenant;
import dev.tiergate.tier.Tier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link TenantKeyAuthenticationFilter.TenantAuthentication}: named by the
 * tenant's id (what Spring asks on every request and the audit records as actor), not by
 * the tenant record's text.
 */
class TenantAuthenticationTests {

	@Test
	void isAnAuthenticatedTenantNamedByItsId() {
		Tenant tenant = new Tenant("acme", "Acme Corp", EnumSet.of(Tier.P0, Tier.P1), Tier.P1, 2, Limits.NONE);
		var authentication = new TenantKeyAuthenticationFilter.TenantAuthentication(tenant);
		assertThat(authentication.getName()).isEqualTo("acme");
		assertThat(authentication.isAuthenticated()).isTrue();
		assertThat(authentication.getPrincipal()).isSameAs(tenant);
		assertThat(authentication.getCredentials()).isNull();
		assertThat(authentication.getAuthorities()).extracting(Object::toString)
			.containsExactly(TenantKeyAuthenticationFilter.TENANT_AUTHORITY);
	}

}
