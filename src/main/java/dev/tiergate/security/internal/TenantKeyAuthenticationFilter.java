package dev.tiergate.security.internal;

import java.io.IOException;
import java.util.List;
import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.dao.DataAccessException;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.core.authority.SimpleGrantedAuthority;
import org.springframework.security.core.context.SecurityContext;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.web.filter.OncePerRequestFilter;

import dev.tiergate.quota.Tenant;
import dev.tiergate.quota.TenantStore;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * Authenticates {@code /v1/**} callers by tenant API key
 * ({@code Authorization: Bearer tg-...}), and is the {@code /v1} chain's one gate: a
 * request without a valid key is answered 401 (503 when the tenant store is down) and
 * goes no further, whatever its path. The principal of the resulting authentication is
 * the {@link Tenant}; the security context lives for the request only.
 */
class TenantKeyAuthenticationFilter extends OncePerRequestFilter {

	private static final Logger logger = LoggerFactory.getLogger(TenantKeyAuthenticationFilter.class);

	static final String TENANT_AUTHORITY = "ROLE_TENANT";

	private final TenantStore tenants;

	TenantKeyAuthenticationFilter(TenantStore tenants) {
		this.tenants = tenants;
	}

	@Override
	protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
			throws ServletException, IOException {
		Optional<String> key = BearerTokens.from(request);
		if (key.isEmpty()) {
			response.setHeader("WWW-Authenticate", "Bearer");
			ErrorBodies.openAi(response, 401, "invalid_request_error", "missing_api_key",
					"You didn't provide an API key. Send it as 'Authorization: Bearer <key>'.");
			return;
		}
		Optional<Tenant> tenant;
		try {
			tenant = this.tenants.authenticate(key.get());
		}
		catch (DataAccessException ex) {
			logger.warn("Tenant key lookup failed: {}", ex.getMostSpecificCause().toString());
			response.setHeader("Retry-After", "1");
			ErrorBodies.openAi(response, 503, "service_unavailable", "quota_unavailable",
					"Tenant store is unavailable; try again shortly.");
			return;
		}
		if (tenant.isEmpty()) {
			response.setHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"");
			ErrorBodies.openAi(response, 401, "invalid_request_error", "invalid_api_key",
					"Incorrect API key provided.");
			return;
		}
		var authentication = new TenantAuthentication(tenant.get());
		SecurityContext context = SecurityContextHolder.createEmptyContext();
		context.setAuthentication(authentication);
		SecurityContextHolder.setContext(context);
		MDC.put("tenant", tenant.get().id());
		try {
			chain.doFilter(request, response);
		}
		finally {
			// The chain has no security-context holder filter: the context ends here.
			SecurityContextHolder.clearContext();
			MDC.remove("tenant");
		}
	}

	/**
	 * A tenant's authentication, named by the tenant's id: Spring asks for the name on
	 * every request, and the default (the principal's {@code toString}, the whole tenant
	 * record) cost a string of every field each time, and named the audit's actor by it.
	 */
	static final class TenantAuthentication extends UsernamePasswordAuthenticationToken {

		private static final long serialVersionUID = 1L;

		private static final List<GrantedAuthority> AUTHORITIES = List.of(new SimpleGrantedAuthority(TENANT_AUTHORITY));

		TenantAuthentication(Tenant tenant) {
			super(tenant, null, AUTHORITIES);
		}

		@Override
		public String getName() {
			return ((Tenant) getPrincipal()).id();
		}

	}

}
