package dev.tiergate.routing;

import java.net.URI;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One inference pod that requests can be sent to. Identity is the pod key; address, slots and readiness follow the
 * pod, and {@link #inFlight()} counts the requests it is serving through this replica of Tiergate.
 */
public final class Endpoint {

	private final String key;

	private final String model;

	private final AtomicInteger inFlight = new AtomicInteger();

	private volatile Spec spec;

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
	 * Whether new requests may go here. A pod that is not Ready or is being deleted is drained: requests already
	 * running finish, no new one starts.
	 * @return {@code true} when routable
	 */
	public boolean accepting() {
		return this.spec.accepting();
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
	 * Counts a request that starts on this endpoint (called by the dispatcher for every lease it grants).
	 */
	public void leaseStarted() {
		this.inFlight.incrementAndGet();
	}

	/**
	 * Counts a request that ended on this endpoint (exactly once per {@link #leaseStarted()}).
	 */
	public void leaseEnded() {
		this.inFlight.decrementAndGet();
	}

	record Spec(URI baseUri, int slots, String node, int slices, String priorityClass, boolean accepting) {
	}

}
