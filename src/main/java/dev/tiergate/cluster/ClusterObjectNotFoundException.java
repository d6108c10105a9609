package dev.tiergate.cluster;

import dev.tiergate.problem.TiergateException;

/**
 * The named cluster object (sharing profile, PriorityClass, node) does not exist: 404.
 */
public class ClusterObjectNotFoundException extends TiergateException {

	public ClusterObjectNotFoundException(String message) {
		super(404, "not_found", message);
	}

}
