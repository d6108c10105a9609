package dev.tiergate.security.internal;

import java.util.Optional;

import jakarta.servlet.http.HttpServletRequest;

/**
 * Reads {@code Authorization: Bearer <token>}.
 */
final class BearerTokens {

	private BearerTokens() {
	}

	static Optional<String> from(HttpServletRequest request) {
		String header = request.getHeader("Authorization");
		if (header == null || header.length() <= 7 || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
			return Optional.empty();
		}
		String token = header.substring(7).strip();
		return token.isEmpty() ? Optional.empty() : Optional.of(token);
	}

}
