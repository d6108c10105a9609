package dev.tiergate.routing;

import java.net.URI;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.tiergate.cluster.ClusterView;
import dev.tiergate.cluster.InferencePod;

/**
 * The live set of endpoints, grouped into pools by model, following the cluster's
 * inference pods as the informers report them.
 */
public class EndpointRegistry implements ClusterView.PodListener {

	private static final Logger logger = LoggerFactory.getLogger(EndpointRegistry.class);

	private final RoutingProperties properties;

	private final Map<String, Endpoint> byKey = new ConcurrentHashMap<>();

	private final Map<String, List<Endpoint>> byModel = new ConcurrentHashMap<>();

	private final List<EndpointListener> listeners = new CopyOnWriteArrayList<>();

	public EndpointRegistry(ClusterView clusterView, RoutingProperties properties) {
		this.properties = properties;
		clusterView.addPodListener(this);
	}

	@Override
	public void upserted(InferencePod pod) {
		int slots = this.properties.slotsFor(pod.model());
		String warning = null;
		if (pod.maxConcurrency() > this.properties.maxConcurrencyLimit()) {
			warning = "Annotation tiergate.dev/max-concurrency=" + pod.maxConcurrency()
					+ " is above tiergate.routing.max-concurrency-limit (" + this.properties.maxConcurrencyLimit()
					+ "): refused, the pod gets " + slots + " slots";
			Endpoint known = this.byKey.get(pod.key());
			if (known == null || !warning.equals(known.warning())) {
				logger.warn("Pod {}: {}", pod.key(), warning);
			}
		}
		else if (pod.maxConcurrency() > 0) {
			slots = pod.maxConcurrency();
		}
		URI baseUri = pod.podIp().isEmpty() ? URI.create("http://unassigned")
				: URI.create("http://" + hostLiteral(pod.podIp()) + ":" + pod.port());
		Endpoint.Spec spec = new Endpoint.Spec(baseUri, slots, pod.nodeName(), pod.slices(), pod.priorityClass(),
				pod.routable(), warning, pod.priorityScheduling());
		synchronized (this) {
			Endpoint existing = this.byKey.get(pod.key());
			if (existing != null && existing.model().equals(pod.model())) {
				existing.spec(spec);
				fireUpserted(existing);
			}
			else {
				if (existing != null) {
					removeFromPool(existing);
					fireRemoved(existing);
				}
				Endpoint endpoint = new Endpoint(pod.key(), pod.model(), spec);
				this.byKey.put(pod.key(), endpoint);
				List<Endpoint> pool = new ArrayList<>(this.byModel.getOrDefault(pod.model(), List.of()));
				pool.add(endpoint);
				pool.sort(Comparator.comparing(Endpoint::key));
				this.byModel.put(pod.model(), List.copyOf(pool));
				fireUpserted(endpoint);
			}
		}
	}

	@Override
	public void removed(InferencePod pod) {
		synchronized (this) {
			Endpoint existing = this.byKey.remove(pod.key());
			if (existing != null) {
				removeFromPool(existing);
				fireRemoved(existing);
			}
		}
	}

	private void removeFromPool(Endpoint endpoint) {
		List<Endpoint> pool = new ArrayList<>(this.byModel.getOrDefault(endpoint.model(), List.of()));
		pool.remove(endpoint);
		if (pool.isEmpty()) {
			this.byModel.remove(endpoint.model());
		}
		else {
			this.byModel.put(endpoint.model(), List.copyOf(pool));
		}
	}

	private static String hostLiteral(String ip) {
		return ip.contains(":") ? "[" + ip + "]" : ip;
	}

	/**
	 * Models served by at least one known endpoint.
	 * @return model names, sorted
	 */
	public SortedSet<String> models() {
		return new TreeSet<>(this.byModel.keySet());
	}

	/**
	 * The pool of a model.
	 * @param model the model
	 * @return its endpoints, sorted by key; empty for an unknown model
	 */
	public List<Endpoint> pool(String model) {
		return this.byModel.getOrDefault(model, List.of());
	}

	/**
	 * A model's context length as its engines report it.
	 * @param model the model
	 * @return the smallest {@code max_model_len} reported by its endpoints, or 0 when
	 * none reported one
	 */
	public int maxModelLen(String model) {
		int smallest = 0;
		for (Endpoint endpoint : pool(model)) {
			int reported = endpoint.maxModelLen();
			if (reported > 0 && (smallest == 0 || reported < smallest)) {
				smallest = reported;
			}
		}
		return smallest;
	}

	/**
	 * Counts endpoints and requests in flight without copying or sorting, for gauges read
	 * on every scrape.
	 * @param acceptingOnly whether to count only endpoints that take new requests
	 * @return the number of endpoints
	 */
	public long count(boolean acceptingOnly) {
		long count = 0;
		for (Endpoint endpoint : this.byKey.values()) {
			if (!acceptingOnly || endpoint.accepting()) {
				count++;
			}
		}
		return count;
	}

	/**
	 * Requests in flight on every endpoint, without copying or sorting.
	 * @return the total
	 */
	public int inFlight() {
		int total = 0;
		for (Endpoint endpoint : this.byKey.values()) {
			total += endpoint.inFlight();
		}
		return total;
	}

	/**
	 * Every known endpoint.
	 * @return endpoints sorted by model then key
	 */
	public List<Endpoint> endpoints() {
		return this.byKey.values()
			.stream()
			.sorted(Comparator.comparing(Endpoint::model).thenComparing(Endpoint::key))
			.toList();
	}

	/**
	 * Registers a listener for endpoint changes. It first receives every known endpoint.
	 * @param listener the listener; calls come from informer threads
	 */
	public void addListener(EndpointListener listener) {
		synchronized (this) {
			this.listeners.add(listener);
			endpoints().forEach(listener::upserted);
		}
	}

	/**
	 * Tells listeners that an endpoint's state changed other than through its pod
	 * (passive health ejected or readmitted it).
	 * @param endpoint the endpoint
	 */
	void changed(Endpoint endpoint) {
		synchronized (this) {
			if (this.byKey.get(endpoint.key()) == endpoint) {
				fireUpserted(endpoint);
			}
		}
	}

	private void fireUpserted(Endpoint endpoint) {
		for (EndpointListener listener : this.listeners) {
			listener.upserted(endpoint);
		}
	}

	private void fireRemoved(Endpoint endpoint) {
		for (EndpointListener listener : this.listeners) {
			listener.removed(endpoint);
		}
	}

	/**
	 * Receives endpoint changes.
	 */
	public interface EndpointListener {

		/**
		 * An endpoint appeared, or its address, slots, readiness or health changed.
		 * @param endpoint the endpoint as it is now
		 */
		void upserted(Endpoint endpoint);

		/**
		 * An endpoint is gone (its pod was deleted or moved to another model).
		 * @param endpoint the endpoint
		 */
		void removed(Endpoint endpoint);

	}

}
