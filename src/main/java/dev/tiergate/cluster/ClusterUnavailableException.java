package dev.tiergate.cluster;

import java.time.Duration;
import java.util.Map;

import dev.tiergate.problem.TiergateException;

/**
 * The Kubernetes API could not be read or written: 503, worth retrying in a few seconds.
 */
public class ClusterUnavailableException extends TiergateException {

	private final int apiStatus;

	public ClusterUnavailableException(String message, int status, Throwable cause) {
		super(503, "cluster_unavailable", message, null, Duration.ofSeconds(5), Map.of(), cause);
		this.apiStatus = status;
	}

	/**
	 * The API server's HTTP status, or 0 when it could not be reached.
	 * @return the status
	 */
	public int apiStatus() {
		return this.apiStatus;
	}

}
