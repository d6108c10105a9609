package dev.tiergate.cluster;

import java.time.Duration;
import java.util.Optional;

/**
 * Which replica writes to the cluster: the holder of the {@code tiergate-leader} Lease.
 * Sharing profiles, node labels, PriorityClasses, device plugin restarts and the tier
 * ConfigMap are written by the leader only; another replica answers such a change with
 * {@link NotLeaderException} (503 naming the leader, with {@code Retry-After}).
 */
public interface Leadership {

	/**
	 * A process that elects no one (no Kubernetes client, a unit test): it is its own
	 * leader.
	 */
	Leadership SOLE = new Leadership() {

		@Override
		public boolean isLeader() {
			return true;
		}

		@Override
		public Optional<String> leader() {
			return Optional.empty();
		}

	};

	/**
	 * Whether this replica leads now.
	 * @return {@code true} while it holds the Lease and renews it in time
	 */
	boolean isLeader();

	/**
	 * The replica that holds the Lease, as this replica last saw it.
	 * @return its name ({@code ReplicaIdentity.name()}), or empty when nobody holds it
	 * (or, for {@link #SOLE}, nobody is elected)
	 */
	Optional<String> leader();

	/**
	 * When a replica that is not the leader should try again.
	 * @return the delay for {@code Retry-After}
	 */
	default Duration retryAfter() {
		return Duration.ofSeconds(2);
	}

	/**
	 * Refuses a cluster write on a replica that does not lead.
	 * @param what the change, for the message
	 * @throws NotLeaderException if this replica is not the leader
	 */
	default void requireLeader(String what) {
		if (!isLeader()) {
			throw new NotLeaderException(what, leader().orElse(null), retryAfter());
		}
	}

}
