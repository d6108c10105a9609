package dev.tiergate.cluster;

/**
 * The named cluster object (sharing profile, PriorityClass, node) does not exist.
 */
public class ClusterObjectNotFoundException extends RuntimeException {

	public ClusterObjectNotFoundException(String message) {
		super(message);
	}

}
