package dev.tiergate.cluster;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A {@link ClusterView} whose pods a test sets by hand.
 */
public class InMemoryClusterView implements ClusterView {

	private final Map<String, InferencePod> pods = new TreeMap<>();

	private final List<GpuNode> nodes = new ArrayList<>();

	private final List<PodListener> listeners = new CopyOnWriteArrayList<>();

	public static InferencePod pod(String name, String model, int slots) {
		return new InferencePod("default", name, name + "-uid", model, "node-1", "127.0.0.1", 8000, slots, 1, "", true,
				false);
	}

	public synchronized void upsert(InferencePod pod) {
		this.pods.put(pod.key(), pod);
		this.listeners.forEach((l) -> l.upserted(pod));
	}

	public synchronized void remove(InferencePod pod) {
		this.pods.remove(pod.key());
		this.listeners.forEach((l) -> l.removed(pod));
	}

	public synchronized void addNode(GpuNode node) {
		this.nodes.add(node);
	}

	@Override
	public synchronized List<GpuNode> nodes() {
		return List.copyOf(this.nodes);
	}

	@Override
	public synchronized List<InferencePod> inferencePods() {
		return List.copyOf(this.pods.values());
	}

	@Override
	public boolean synced() {
		return true;
	}

	@Override
	public synchronized void addPodListener(PodListener listener) {
		this.listeners.add(listener);
		this.pods.values().forEach(listener::upserted);
	}

}
