package dev.tiergate.cluster;

import java.net.URI;
import java.time.Duration;
import java.util.Map;

import dev.tiergate.problem.ProblemTypes;
import dev.tiergate.problem.TiergateException;

/**
 * A cluster write reached a replica that is not the leader: 503 with {@code Retry-After},
 * and the leader's name in the problem's {@code leader} member (absent while nobody
 * leads), so the caller can send the change there or simply retry.
 */
public class NotLeaderException extends TiergateException {

	private final String leader;

	/**
	 * The refusal of one change.
	 * @param what the change refused
	 * @param leader the leader's replica name, or {@code null} while nobody leads
	 * @param retryAfter when to try again
	 */
	public NotLeaderException(String what, String leader, Duration retryAfter) {
		super(503, "not_leader",
				(leader != null)
						? "This replica is not the leader; " + what + " is done by the leader, replica " + leader
						: "No replica leads right now; " + what + " waits for an election, try again",
				null, retryAfter, Map.of());
		this.leader = leader;
		if (leader != null) {
			withProperty("leader", leader);
		}
	}

	@Override
	public URI problemType() {
		return ProblemTypes.NOT_LEADER;
	}

	/**
	 * The leader this replica saw.
	 * @return its name, or {@code null}
	 */
	public String leader() {
		return this.leader;
	}

}
