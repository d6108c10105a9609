package dev.tiergate.problem;

import java.net.URI;

/**
 * The {@code type} URIs of Tiergate's problem details ({@code /api/**}), in one place
 * that every module may use.
 */
public final class ProblemTypes {

	/** The request is malformed or fails validation. */
	public static final URI INVALID_REQUEST = URI.create("https://tiergate.dev/problems/invalid-request");

	/** The named thing does not exist. */
	public static final URI NOT_FOUND = URI.create("https://tiergate.dev/problems/not-found");

	/** The caller is not authenticated, or its credentials are not valid. */
	public static final URI UNAUTHORIZED = URI.create("https://tiergate.dev/problems/unauthorized");

	/** The caller's role does not allow the operation. */
	public static final URI FORBIDDEN = URI.create("https://tiergate.dev/problems/forbidden");

	/** The change conflicts with the current state. */
	public static final URI CONFLICT = URI.create("https://tiergate.dev/problems/conflict");

	/** A tenant's quota or the dispatcher's load shedding refuses the request. */
	public static final URI QUOTA_EXCEEDED = URI.create("https://tiergate.dev/problems/quota-exceeded");

	/** A backend (Redis, the Kubernetes API) is unavailable. */
	public static final URI UNAVAILABLE = URI.create("https://tiergate.dev/problems/unavailable");

	/**
	 * A change to the cluster reached a replica that is not the leader (503, member
	 * {@code leader} names the replica that writes).
	 */
	public static final URI NOT_LEADER = URI.create("https://tiergate.dev/problems/not-leader");

	/** Something failed inside Tiergate. */
	public static final URI INTERNAL = URI.create("https://tiergate.dev/problems/internal");

	private ProblemTypes() {
	}

	/**
	 * The type that fits a status when nothing more specific is known.
	 * @param status an HTTP status
	 * @return the type
	 */
	public static URI forStatus(int status) {
		return switch (status) {
			case 400, 405, 406, 413, 415, 422 -> INVALID_REQUEST;
			case 401 -> UNAUTHORIZED;
			case 403 -> FORBIDDEN;
			case 404 -> NOT_FOUND;
			case 409 -> CONFLICT;
			case 429 -> QUOTA_EXCEEDED;
			case 502, 503, 504 -> UNAVAILABLE;
			default -> (status < 500) ? INVALID_REQUEST : INTERNAL;
		};
	}

}
