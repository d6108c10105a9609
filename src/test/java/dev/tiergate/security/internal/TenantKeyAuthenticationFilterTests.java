package dev.tiergate.security.internal;

import java.util.EnumSet;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;

import dev.tiergate.quota.Limits;
import dev.tiergate.quota.Tenant;
import dev.tiergate.quota.TenantStore;
import dev.tiergate.tier.Tier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link TenantKeyAuthenticationFilter} as the {@code /v1} chain's one gate: it
 * lets only a valid key through and ends the security context with the request (the chain
 * has no security-context holder filter to do it).
 */
class TenantKeyAuthenticationFilterTests {

	private static final Tenant ACME = new Tenant("acme", "Acme", EnumSet.of(Tier.P0), Tier.P0, 1, Limits.NONE);

	private final TenantKeyAuthenticationFilter filter = new TenantKeyAuthenticationFilter(new TenantStore(null, null) {
		@Override
		public Optional<Tenant> authenticate(String key) {
			return "tg-good".equals(key) ? Optional.of(ACME) : Optional.empty();
		}
	});

	@AfterEach
	void clear() {
		SecurityContextHolder.clearContext();
	}

	private MockHttpServletResponse call(String authorization, AtomicReference<Authentication> seen) throws Exception {
		MockHttpServletRequest request = new MockHttpServletRequest("POST", "/v1/anything");
		if (authorization != null) {
			request.addHeader("Authorization", authorization);
		}
		MockHttpServletResponse response = new MockHttpServletResponse();
		this.filter.doFilter(request, response,
				(req, res) -> seen.set(SecurityContextHolder.getContext().getAuthentication()));
		return response;
	}

	@Test
	void aValidKeyIsServedAsItsTenantAndTheContextEndsWithTheRequest() throws Exception {
		AtomicReference<Authentication> seen = new AtomicReference<>();
		MockHttpServletResponse response = call("Bearer tg-good", seen);
		assertThat(response.getStatus()).isEqualTo(200);
		assertThat(seen.get().getPrincipal()).isSameAs(ACME);
		assertThat(SecurityContextHolder.getContext().getAuthentication()).isNull();
	}

	@Test
	void noKeyOrAWrongOneGoesNoFurther() throws Exception {
		AtomicReference<Authentication> seen = new AtomicReference<>();
		assertThat(call(null, seen).getStatus()).isEqualTo(401);
		assertThat(call("Bearer tg-bad", seen).getStatus()).isEqualTo(401);
		assertThat(call("Basic YWRtaW46YWRtaW4=", seen).getStatus()).isEqualTo(401);
		assertThat(seen.get()).isNull();
	}

}
