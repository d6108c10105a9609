package dev.tiergate.routing;

import java.net.URI;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import dev.tiergate.cluster.ClusterView;
import dev.tiergate.cluster.InferencePod;

/**
 * The live set of endpoints, grouped into pools by model, following the cluster's inference pods as the informers
 * report them.
 */
public class EndpointRegistry implements ClusterView.PodListener {

	private final RoutingProperties properties;

	private final Map<String, Endpoint> byKey = new ConcurrentHashMap<>();

	private final Map<String, List<Endpoint>> byModel = new ConcurrentHashMap<>();

	private final List<Runnable> changeListeners = new CopyOnWriteArrayList<>();

	public EndpointRegistry(ClusterView clusterView, RoutingProperties properties) {
		this.properties = properties;
		clusterView.addPodListener(this);
	}

	@Override
	public void upserted(InferencePod pod) {
		int slots = (pod.maxConcurrency() > 0) ? pod.maxConcurrency() : this.properties.slotsFor(pod.model());
		URI baseUri = pod.podIp().isEmpty() ? URI.create("http://unassigned")
				: URI.create("http://" + hostLiteral(pod.podIp()) + ":" + pod.port());
		Endpoint.Spec spec = new Endpoint.Spec(baseUri, slots, pod.nodeName(), pod.slices(), pod.priorityClass(),
				pod.routable());
		synchronized (this) {
			Endpoint existing = this.byKey.get(pod.key());
			if (existing != null && existing.model().equals(pod.model())) {
				existing.spec(spec);
			}
			else {
				if (existing != null) {
					removeFromPool(existing);
				}
				Endpoint endpoint = new Endpoint(pod.key(), pod.model(), spec);
				this.byKey.put(pod.key(), endpoint);
				List<Endpoint> pool = new ArrayList<>(this.byModel.getOrDefault(pod.model(), List.of()));
				pool.add(endpoint);
				pool.sort(Comparator.comparing(Endpoint::key));
				this.byModel.put(pod.model(), List.copyOf(pool));
			}
		}
		fireChanged();
	}

	@Override
	public void removed(InferencePod pod) {
		synchronized (this) {
			Endpoint existing = this.byKey.remove(pod.key());
			if (existing != null) {
				removeFromPool(existing);
			}
		}
		fireChanged();
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
	 * Takes a slot on the accepting endpoint of the model with the fewest requests in flight.
	 * @param model the model
	 * @return the lease, or empty when no accepting endpoint has a free slot
	 */
	public Optional<EndpointLease> tryAcquire(String model) {
		List<Endpoint> pool = pool(model);
		while (true) {
			Endpoint best = null;
			int bestLoad = Integer.MAX_VALUE;
			for (Endpoint endpoint : pool) {
				if (!endpoint.accepting()) {
					continue;
				}
				int inFlight = endpoint.inFlight();
				if (inFlight < endpoint.slots() && inFlight < bestLoad) {
					best = endpoint;
					bestLoad = inFlight;
				}
			}
			if (best == null) {
				return Optional.empty();
			}
			if (best.tryAcquire()) {
				return Optional.of(new EndpointLease(best, this::fireChanged));
			}
		}
	}

	/**
	 * Registers a callback run after any change that may free capacity: a slot released, a pod added or changed.
	 * @param listener the callback, which must be quick
	 */
	public void onCapacityChange(Runnable listener) {
		this.changeListeners.add(listener);
	}

	private void fireChanged() {
		for (Runnable listener : this.changeListeners) {
			listener.run();
		}
	}

}
