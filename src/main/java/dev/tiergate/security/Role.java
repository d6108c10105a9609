package dev.tiergate.security;

/**
 * What an operator may do. Each role includes the ones below it.
 */
public enum Role {

	/** Reads everything operators see. */
	VIEWER,

	/** Also manages tenants and quotas. */
	OPERATOR,

	/** Also changes the cluster: sharing profiles, PriorityClasses, tiers. */
	ADMIN;

	/**
	 * The Spring Security authority of this role.
	 * @return e.g. {@code ROLE_ADMIN}
	 */
	public String authority() {
		return "ROLE_" + name();
	}

}
