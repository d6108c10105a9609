package dev.tiergate.routing;

import java.net.URI;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One inference pod that requests can be sent to. Identity is the pod key; address, slots
 * and readiness follow the pod, and {@link #inFlight()} counts the requests it is serving
 * through this replica of Tiergate.
 */
public final class Endpoint {

	private final String key;

	private final String model;

	private final AtomicInteger inFlight = new AtomicInteger();

	private volatile Spec spec;

	private volatile EndpointMetrics metrics;

	private volatile String scrapeError;

	private volatile int maxModelLen;

	private volatile Health health = Health.HEALTHY;

	// Passive health, guarded by this.
	int consecutiveFailures;

	int ejectionStreak;

	long ejectedUntilNanos;

	long readmittedAtNanos;

	long lastBackoffNanos;

	long ejections;

	private volatile String lastError;

	private volatile long lastErrorAtNanos;

	Endpoint(String key, String model, Spec spec) {
		this.key = key;
		this.model = model;
		this.spec = spec;
	}

	/**
	 * The pod key.
	 * @return {@code namespace/name}
	 */
	public String key() {
		return this.key;
	}

	/**
	 * The model this endpoint serves.
	 * @return model name
	 */
	public String model() {
		return this.model;
	}

	/**
	 * Base URI of the OpenAI-compatible server, e.g. {@code http://10.0.0.7:8000}.
	 * @return the base URI
	 */
	public URI baseUri() {
		return this.spec.baseUri();
	}

	/**
	 * How many requests it serves at once.
	 * @return slot count
	 */
	public int slots() {
		return this.spec.slots();
	}

	/**
	 * Node it runs on.
	 * @return node name
	 */
	public String node() {
		return this.spec.node();
	}

	/**
	 * Whether the engine schedules by vLLM's {@code priority} request field (its pod
	 * starts it with {@code --scheduling-policy priority}).
	 * @return {@code true} when it does
	 */
	public boolean priorityScheduling() {
		return this.spec.priorityScheduling();
	}

	/**
	 * GPU slices the pod holds.
	 * @return slice count
	 */
	public int slices() {
		return this.spec.slices();
	}

	/**
	 * The pod's PriorityClass.
	 * @return class name or {@code ""}
	 */
	public String priorityClass() {
		return this.spec.priorityClass();
	}

	/**
	 * Whether new requests may go here. A pod that is not Ready or is being deleted is
	 * drained, and so is one that passive health has ejected: requests already running
	 * finish, no new one starts.
	 * @return {@code true} when routable and not ejected
	 */
	public boolean accepting() {
		return this.spec.accepting() && this.health == Health.HEALTHY;
	}

	/**
	 * Whether the pod itself is routable (Ready, not being deleted, with an address),
	 * whatever passive health says.
	 * @return {@code true} when the pod is routable
	 */
	public boolean podRoutable() {
		return this.spec.accepting();
	}

	/**
	 * Passive health.
	 * @return {@code HEALTHY} or {@code EJECTED}
	 */
	public Health health() {
		return this.health;
	}

	void health(Health health) {
		this.health = health;
	}

	/**
	 * Consecutive failed requests (connect errors, 5xx, broken streams) since the last
	 * success.
	 * @return the count
	 */
	public synchronized int consecutiveFailures() {
		return this.consecutiveFailures;
	}

	/**
	 * Until when an ejected endpoint is left alone before it is probed.
	 * @return epoch nanos on the injected clock; 0 when never ejected
	 */
	public synchronized long ejectedUntilNanos() {
		return this.ejectedUntilNanos;
	}

	/**
	 * How many times passive health has ejected it.
	 * @return ejections
	 */
	public synchronized long ejections() {
		return this.ejections;
	}

	/**
	 * The last failure seen on it (request or probe), for operators.
	 * @return a short description, or {@code null}
	 */
	public String lastError() {
		return this.lastError;
	}

	/**
	 * When {@link #lastError()} happened.
	 * @return epoch nanos on the injected clock; 0 when none
	 */
	public long lastErrorAtNanos() {
		return this.lastErrorAtNanos;
	}

	void lastError(String error, long atNanos) {
		this.lastError = error;
		this.lastErrorAtNanos = atNanos;
	}

	/**
	 * The last successful scrape of its {@code /metrics}.
	 * @return the metrics, or {@code null} if never scraped successfully
	 */
	public EndpointMetrics metrics() {
		return this.metrics;
	}

	/**
	 * Why the last scrape failed.
	 * @return the error, or {@code null} if the last scrape succeeded (or none ran yet)
	 */
	public String scrapeError() {
		return this.scrapeError;
	}

	/**
	 * The last scrape, if it succeeded and is not older than the bound.
	 * @param nowNanos the time, epoch nanos
	 * @param staleAfterNanos the staleness bound
	 * @return the metrics, or {@code null} when missing, failed or stale
	 */
	public EndpointMetrics freshMetrics(long nowNanos, long staleAfterNanos) {
		EndpointMetrics current = this.metrics;
		if (current == null || this.scrapeError != null || current.ageNanos(nowNanos) > staleAfterNanos) {
			return null;
		}
		return current;
	}

	/**
	 * Records a successful scrape.
	 * @param metrics what it said
	 */
	public void scraped(EndpointMetrics metrics) {
		this.metrics = metrics;
		this.scrapeError = null;
	}

	/**
	 * Records a failed scrape; the last good metrics stay for display but no longer
	 * count.
	 * @param error why
	 */
	public void scrapeFailed(String error) {
		this.scrapeError = error;
	}

	/**
	 * What is wrong with the pod's declaration, such as a refused
	 * {@code tiergate.dev/max-concurrency}.
	 * @return the warning, or {@code null}
	 */
	public String warning() {
		return this.spec.warning();
	}

	/**
	 * The context length the engine reported ({@code max_model_len} on
	 * {@code GET /v1/models}).
	 * @return tokens, or 0 when not known
	 */
	public int maxModelLen() {
		return this.maxModelLen;
	}

	/**
	 * Records the context length the engine reported.
	 * @param tokens {@code max_model_len}, positive
	 */
	public void maxModelLen(int tokens) {
		this.maxModelLen = tokens;
	}

	/**
	 * Requests in flight on this endpoint through this replica.
	 * @return in-flight count
	 */
	public int inFlight() {
		return this.inFlight.get();
	}

	void spec(Spec spec) {
		this.spec = spec;
	}

	/**
	 * Counts a request that starts on this endpoint (called by the dispatcher for every
	 * lease it grants).
	 */
	public void leaseStarted() {
		this.inFlight.incrementAndGet();
	}

	/**
	 * Counts a request that ended on this endpoint (exactly once per
	 * {@link #leaseStarted()}).
	 */
	public void leaseEnded() {
		this.inFlight.decrementAndGet();
	}

	/** Passive health of an endpoint. */
	public enum Health {

		/** Takes requests (if its pod is routable). */
		HEALTHY,

		/**
		 * Failed repeatedly: takes no new request until a probe succeeds after its
		 * backoff.
		 */
		EJECTED

	}

	record Spec(URI baseUri, int slots, String node, int slices, String priorityClass, boolean accepting,
			String warning, boolean priorityScheduling) {
	}

}
