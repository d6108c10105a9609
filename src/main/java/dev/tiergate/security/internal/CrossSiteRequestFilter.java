package dev.tiergate.security.internal;

import java.io.IOException;
import java.util.Locale;
import java.util.Set;

import org.springframework.http.MediaType;
import org.springframework.util.InvalidMimeTypeException;
import org.springframework.web.filter.OncePerRequestFilter;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * Refuses state-changing {@code /api/**} calls that a page on another site could make a
 * browser send. A browser adds cached HTTP Basic credentials to any request, including a
 * cross-site form POST, but it sends a non-simple header or a JSON body only after a CORS
 * preflight that Tiergate never grants. So a change must carry one of: an
 * {@code X-Requested-With} header, a JSON content type ({@code application/json} or
 * {@code application/*+json}), or a bearer token (which no browser adds by itself).
 * Reading ({@code GET}, {@code HEAD}, {@code OPTIONS}) needs none of them.
 */
final class CrossSiteRequestFilter extends OncePerRequestFilter {

	static final String HEADER = "X-Requested-With";

	private static final Set<String> SAFE_METHODS = Set.of("GET", "HEAD", "OPTIONS", "TRACE");

	@Override
	protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
			throws ServletException, IOException {
		if (SAFE_METHODS.contains(request.getMethod()) || hasRequestedWith(request) || isJson(request)
				|| hasBearer(request)) {
			chain.doFilter(request, response);
			return;
		}
		ErrorBodies.problem(response, 403, "Forbidden",
				"A change through /api/** needs an " + HEADER + " header (any value, e.g. curl -H '" + HEADER
						+ ": curl'), a JSON Content-Type, or a bearer token: a page on another site cannot send those, "
						+ "so this request might be forged.");
	}

	private static boolean hasRequestedWith(HttpServletRequest request) {
		String value = request.getHeader(HEADER);
		return value != null && !value.isBlank();
	}

	private static boolean hasBearer(HttpServletRequest request) {
		String authorization = request.getHeader("Authorization");
		return authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7);
	}

	private static boolean isJson(HttpServletRequest request) {
		String contentType = request.getContentType();
		if (contentType == null) {
			return false;
		}
		try {
			MediaType type = MediaType.parseMediaType(contentType);
			String subtype = type.getSubtype().toLowerCase(Locale.ROOT);
			return "application".equalsIgnoreCase(type.getType())
					&& (subtype.equals("json") || subtype.endsWith("+json"));
		}
		catch (InvalidMimeTypeException ex) {
			return false;
		}
	}

}
