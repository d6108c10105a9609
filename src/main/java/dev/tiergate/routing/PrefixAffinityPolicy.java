package dev.tiergate.routing;

import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/**
 * {@code prefix-affinity}: consistent hashing with bounded load (Mirrokni, Thorup and
 * Zadimoghaddam, 2018) on the request's affinity key, so that requests sharing a prompt
 * prefix (or a session) reach the same endpoint and find its KV cache warm. The ring
 * holds every endpoint of the pool ({@code virtualNodes} points each), so it does not
 * move when an endpoint fills up; a request goes to the first endpoint clockwise from its
 * key that has a free slot and is under the load bound
 * {@code ceil(loadFactor x (leases + 1) / endpoints)}, counted over the endpoints with a
 * free slot. A repeated prefix therefore stays on one endpoint until that endpoint
 * carries {@code loadFactor} times the mean, then spills to the next one on the ring.
 * Requests without a key go to the least-outstanding endpoint.
 */
public final class PrefixAffinityPolicy implements BalancingPolicy {

	private final Supplier<List<Endpoint>> members;

	private final double loadFactor;

	private final int virtualNodes;

	private volatile Ring ring = new Ring(List.of(), new long[0], new Endpoint[0]);

	/**
	 * A prefix-affinity policy.
	 * @param members the pool's endpoints, all of them (the registry's list for the
	 * model: a new list on every change, which is how the ring knows to rebuild)
	 * @param loadFactor how far above the mean load an endpoint may go before a key
	 * spills over, at least 1
	 * @param virtualNodes points per endpoint on the ring
	 */
	public PrefixAffinityPolicy(Supplier<List<Endpoint>> members, double loadFactor, int virtualNodes) {
		this.members = members;
		this.loadFactor = Math.max(1.0, loadFactor);
		this.virtualNodes = Math.max(1, virtualNodes);
	}

	@Override
	public int choose(long affinityKey, Candidates candidates) {
		if (affinityKey == 0) {
			return 0;
		}
		Ring ring = ring();
		int points = ring.points.length;
		if (points == 0) {
			return 0;
		}
		int size = candidates.size();
		long total = 0;
		for (int i = 0; i < size; i++) {
			total += candidates.inFlight(i);
		}
		long bound = (long) Math.ceil(this.loadFactor * (total + 1) / size - 1e-9);
		int start = Arrays.binarySearch(ring.points, affinityKey);
		if (start < 0) {
			start = -start - 1;
		}
		Endpoint previous = null;
		for (int step = 0; step < points; step++) {
			Endpoint owner = ring.owners[(start + step) % points];
			if (owner == previous) {
				continue;
			}
			previous = owner;
			for (int i = 0; i < size; i++) {
				if (candidates.endpoint(i) == owner) {
					if (candidates.inFlight(i) < bound) {
						return i;
					}
					break;
				}
			}
		}
		return 0;
	}

	/**
	 * The endpoint keys in ring order starting from a key, for displays and tests.
	 * @param affinityKey the key
	 * @return endpoint keys, each once
	 */
	public List<String> order(long affinityKey) {
		Ring ring = ring();
		int start = Arrays.binarySearch(ring.points, affinityKey);
		start = (start < 0) ? -start - 1 : start;
		java.util.LinkedHashSet<String> keys = new java.util.LinkedHashSet<>();
		for (int step = 0; step < ring.points.length; step++) {
			keys.add(ring.owners[(start + step) % ring.points.length].key());
		}
		return List.copyOf(keys);
	}

	private Ring ring() {
		Ring current = this.ring;
		List<Endpoint> now = this.members.get();
		if (current.source == now) {
			return current;
		}
		int count = now.size() * this.virtualNodes;
		long[] keys = new long[count];
		Endpoint[] owners = new Endpoint[count];
		Integer[] order = new Integer[count];
		int k = 0;
		for (Endpoint endpoint : now) {
			long base = AffinityKeys.of(endpoint.key(), Integer.MAX_VALUE);
			for (int v = 0; v < this.virtualNodes; v++) {
				keys[k] = AffinityKeys.mix(base + v * 0x9e3779b97f4a7c15L);
				owners[k] = endpoint;
				order[k] = k;
				k++;
			}
		}
		Arrays.sort(order, (a, b) -> Long.compare(keys[a], keys[b]));
		long[] sortedKeys = new long[count];
		Endpoint[] sortedOwners = new Endpoint[count];
		for (int i = 0; i < count; i++) {
			sortedKeys[i] = keys[order[i]];
			sortedOwners[i] = owners[order[i]];
		}
		Ring built = new Ring(now, sortedKeys, sortedOwners);
		this.ring = built;
		return built;
	}

	private record Ring(List<Endpoint> source, long[] points, Endpoint[] owners) {
	}

}
