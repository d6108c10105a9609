package dev.tiergate.web;

import java.net.URI;

/**
 * The {@code type} URIs of Tiergate's problem details ({@code /api/**}), in one place.
 */
public final class ProblemTypes {

	/** The request is malformed or fails validation. */
	public static final URI INVALID_REQUEST = URI.create("https://tiergate.dev/problems/invalid-request");

	/** The named thing does not exist. */
	public static final URI NOT_FOUND = URI.create("https://tiergate.dev/problems/not-found");

	/** The caller's role does not allow the operation. */
	public static final URI FORBIDDEN = URI.create("https://tiergate.dev/problems/forbidden");

	/** The change conflicts with the current state. */
	public static final URI CONFLICT = URI.create("https://tiergate.dev/problems/conflict");

	/**
	 * A tenant's quota refuses the request (a {@code /v1/**} 429; listed for
	 * completeness).
	 */
	public static final URI QUOTA_EXCEEDED = URI.create("https://tiergate.dev/problems/quota-exceeded");

	/** A backend (Redis, the Kubernetes API) is unavailable. */
	public static final URI UNAVAILABLE = URI.create("https://tiergate.dev/problems/unavailable");

	/** Something failed inside Tiergate. */
	public static final URI INTERNAL = URI.create("https://tiergate.dev/problems/internal");

	private ProblemTypes() {
	}

}
