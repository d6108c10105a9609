package dev.tiergate.cluster;

/**
 * The Kubernetes API could not be read or written.
 */
public class ClusterUnavailableException extends RuntimeException {

	private final int status;

	public ClusterUnavailableException(String message, int status, Throwable cause) {
		super(message, cause);
		this.status = status;
	}

	/**
	 * The API server's HTTP status, or 0 when it could not be reached.
	 * @return the status
	 */
	public int status() {
		return this.status;
	}

}
