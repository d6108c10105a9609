package dev.tiergate.cluster;

import java.util.List;

import dev.tiergate.problem.TiergateException;

/**
 * A requested cluster change conflicts with what is in the cluster (a read-only object, a
 * class in use, a second global default): 409, listing what it conflicts with.
 */
public class ClusterConflictException extends TiergateException {

	private final List<String> conflicts;

	public ClusterConflictException(String message, List<String> conflicts) {
		super(409, "conflict", message);
		this.conflicts = List.copyOf(conflicts);
		withProperty("conflicts", this.conflicts);
	}

	/**
	 * What it conflicts with, e.g. the pods that use a class.
	 * @return names, possibly empty
	 */
	public List<String> conflicts() {
		return this.conflicts;
	}

}
