package dev.tiergate.metering;

import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.ToDoubleFunction;

import dev.tiergate.cluster.ClusterView;
import dev.tiergate.cluster.GpuNode;
import dev.tiergate.dispatch.Lease;
import dev.tiergate.dispatch.LeaseListener;
import dev.tiergate.routing.Endpoint;
import dev.tiergate.tier.Tier;

/**
 * The live runtime's lease starts and ends, attributed as GPU-seconds. The runtime's
 * calls (under a pool's lock) only append an event to a lock-free queue; {@link #drain()}
 * (one thread, off the request path) applies them to a {@link GpuAttribution} and hands
 * over what was attributed since the last drain. An endpoint's share of its GPU is its
 * slices over its node's slices per GPU ({@code nvidia.com/gpu.replicas}), read when the
 * events are applied.
 */
public class GpuMeter implements LeaseListener {

	private final ConcurrentLinkedQueue<Event> events = new ConcurrentLinkedQueue<>();

	private final GpuAttribution attribution = new GpuAttribution();

	private final ClusterView cluster;

	private final Clock clock;

	private final ToDoubleFunction<String> gpuHourly;

	/**
	 * A meter without prices.
	 * @param cluster the nodes, for each node's slices per GPU
	 * @param clock the clock the runtime stamps events with
	 */
	public GpuMeter(ClusterView cluster, Clock clock) {
		this(cluster, clock, (product) -> 0);
	}

	/**
	 * A meter.
	 * @param cluster the nodes, for each node's slices per GPU and GPU product
	 * @param clock the clock the runtime stamps events with
	 * @param gpuHourly the current hourly price of one GPU of a product, in US dollars (0
	 * for a product without price)
	 */
	public GpuMeter(ClusterView cluster, Clock clock, ToDoubleFunction<String> gpuHourly) {
		this.cluster = cluster;
		this.clock = clock;
		this.gpuHourly = gpuHourly;
	}

	@Override
	public void leaseStarted(Lease lease, long epochNanos) {
		Endpoint endpoint = (Endpoint) lease.endpointAttachment();
		this.events.add(new Event(new LeaseKey(endpoint, lease.id()), lease.ticket().tenant(), lease.ticket().tier(),
				epochNanos, true));
	}

	@Override
	public void leaseEnded(Lease lease, long epochNanos) {
		this.events.add(new Event(new LeaseKey((Endpoint) lease.endpointAttachment(), lease.id()), null, null,
				epochNanos, false));
	}

	/**
	 * Leases of one tenant holding a slot, as of the events applied by the last drain.
	 * @param tenant tenant id
	 * @return count
	 */
	public synchronized long running(String tenant) {
		return this.attribution.running(tenant);
	}

	/**
	 * Applies the events so far and hands over what was attributed since the last drain,
	 * running leases charged up to now.
	 * @return the attribution since the last drain
	 */
	public synchronized GpuAttribution.Attribution drain() {
		Map<String, Integer> replicas = new HashMap<>();
		Map<String, Double> hourly = new HashMap<>();
		for (GpuNode node : this.cluster.nodes()) {
			replicas.put(node.name(), Math.max(1, node.replicas()));
			hourly.put(node.name(), this.gpuHourly.applyAsDouble(node.product()));
		}
		Event event;
		while ((event = this.events.poll()) != null) {
			if (event.start()) {
				Endpoint endpoint = event.lease().endpoint();
				double share = (double) endpoint.slices() / replicas.getOrDefault(endpoint.node(), 1);
				this.attribution.started(event.lease(), endpoint.key(), endpoint.node(), share,
						hourly.getOrDefault(endpoint.node(), 0.0), event.tenant(), event.tier(), endpoint.model(),
						event.epochNanos());
			}
			else {
				this.attribution.ended(event.lease(), event.epochNanos());
			}
		}
		Instant now = this.clock.instant();
		return this.attribution.drain(now.getEpochSecond() * 1_000_000_000L + now.getNano());
	}

	/**
	 * A lease start or end as the drain needs it, and nothing more: an event waits for
	 * the next drain (15 s by default), and one that held the lease held its ticket, its
	 * admission and the request's thread, which every young collection then copied (20-30
	 * MB at the front door's maximum rate, docs/benchmarks.md).
	 */
	private record Event(LeaseKey lease, String tenant, Tier tier, long epochNanos, boolean start) {

	}

	/**
	 * A lease's identity: its id is unique within its pool, and an endpoint belongs to
	 * one pool.
	 */
	private record LeaseKey(Endpoint endpoint, long id) {

	}

}
