package dev.tiergate.security.internal;

import org.springframework.security.web.savedrequest.CookieRequestCache;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * The dashboard's request cache: the page a signed-out visitor asked for, kept in a
 * cookie (no session before login), but only when its address is short enough for a
 * cookie. Spring's {@link CookieRequestCache} writes the whole address, Base64-encoded (a
 * third longer), into a {@code Set-Cookie} header: a long query string (which the
 * request's 8 KB head allows) made a response head larger than the container's limit,
 * which the container answers with a 500. A longer address is not kept, so the visitor
 * lands on the dashboard's home after signing in, and the redirect to the login page is
 * answered as for any other.
 */
final class ShortUrlCookieRequestCache extends CookieRequestCache {

	/**
	 * The longest path and query string kept (its cookie is about 1.4 KB, well inside the
	 * response head's limit, {@code server.tomcat.max-http-response-header-size}).
	 */
	static final int MAX_URL_LENGTH = 1024;

	@Override
	public void saveRequest(HttpServletRequest request, HttpServletResponse response) {
		String query = request.getQueryString();
		int length = request.getRequestURI().length() + ((query != null) ? query.length() + 1 : 0);
		if (length <= MAX_URL_LENGTH) {
			super.saveRequest(request, response);
		}
	}

}
