package dev.tiergate.replicas;

import java.util.Optional;

/**
 * Which replica leads, for the replicas view; leader election provides it. Without such a
 * bean, the view names no leader.
 */
@FunctionalInterface
public interface LeaderView {

	/**
	 * The leader's replica name.
	 * @return the name, empty when no replica leads or it is not known
	 */
	Optional<String> leader();

}
