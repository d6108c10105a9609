package dev.tiergate.security.internal;

import java.io.IOException;

import org.springframework.security.web.csrf.CsrfToken;
import org.springframework.web.filter.OncePerRequestFilter;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * Loads the dashboard's CSRF token before the page is written, so that a new token's
 * cookie ({@code XSRF-TOKEN}) goes out with the response's head. Spring Security makes
 * the token when the page first asks for it, in the middle of rendering a form; by then a
 * response whose buffer (1 KB, {@code tiergate.server.response-buffer}) has filled is
 * committed and the cookie is dropped, so the form's next post was refused as a stale
 * token. A request that already carries the cookie reads it and sets nothing.
 */
final class EagerCsrfCookieFilter extends OncePerRequestFilter {

	@Override
	protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
			throws ServletException, IOException {
		if (request.getAttribute(CsrfToken.class.getName()) instanceof CsrfToken token) {
			token.getToken();
		}
		chain.doFilter(request, response);
	}

}
