package dev.tiergate.cluster;

import java.util.List;

/**
 * A requested cluster change conflicts with what is in the cluster: a read-only object, a
 * class in use, a second global default.
 */
public class ClusterConflictException extends RuntimeException {

	private final List<String> conflicts;

	public ClusterConflictException(String message, List<String> conflicts) {
		super(message);
		this.conflicts = List.copyOf(conflicts);
	}

	/**
	 * What it conflicts with, e.g. the pods that use a class.
	 * @return names, possibly empty
	 */
	public List<String> conflicts() {
		return this.conflicts;
	}

}
