package dev.tiergate.security.internal;

import java.io.IOException;
import java.util.List;
import java.util.Optional;

import org.springframework.dao.DataAccessException;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.core.authority.SimpleGrantedAuthority;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.web.filter.OncePerRequestFilter;

import dev.tiergate.security.OperatorStore;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * Authenticates {@code /api/**} callers that present a CI token as
 * {@code Authorization: Bearer tgo-...}. Callers without a bearer token pass through to
 * HTTP Basic.
 */
class ApiTokenAuthenticationFilter extends OncePerRequestFilter {

	private final OperatorStore operators;

	ApiTokenAuthenticationFilter(OperatorStore operators) {
		this.operators = operators;
	}

	@Override
	protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
			throws ServletException, IOException {
		Optional<String> token = BearerTokens.from(request);
		if (token.isPresent()) {
			Optional<OperatorStore.ApiToken> grant;
			try {
				grant = this.operators.authenticateToken(token.get());
			}
			catch (DataAccessException ex) {
				response.setHeader("Retry-After", "1");
				ErrorBodies.problem(response, 503, "Service Unavailable", "The operator store is unavailable.");
				return;
			}
			if (grant.isEmpty()) {
				response.setHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"");
				ErrorBodies.problem(response, 401, "Unauthorized", "The bearer token is not valid.");
				return;
			}
			var authentication = UsernamePasswordAuthenticationToken.authenticated("token:" + grant.get().name(), null,
					List.of(new SimpleGrantedAuthority(grant.get().role().authority())));
			SecurityContextHolder.getContext().setAuthentication(authentication);
		}
		chain.doFilter(request, response);
	}

}
