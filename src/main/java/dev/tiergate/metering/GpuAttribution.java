package dev.tiergate.metering;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.tiergate.tier.Tier;

/**
 * Turns lease time into GPU-seconds per tenant, tier, model and UTC day. An endpoint is
 * busy while it holds at least one lease; its busy time counts as its GPU share (its
 * slices over the slices of one GPU on its node) and is split evenly among the leases it
 * runs at that moment: with k sequences in the engine's batch, each gets 1/k. The sum
 * over leases of an endpoint is therefore its share times its busy time, which is what
 * the node's attributed busy time ({@link Attribution#nodeBusySeconds()}) adds up, to be
 * set against the GPU's measured busy time.
 * <p>
 * Pure and deterministic: every event carries its time (nanoseconds since the epoch);
 * events of one endpoint must come in order, events of different endpoints need not. Not
 * thread-safe: one thread applies events.
 */
public final class GpuAttribution {

	private static final long NANOS_PER_DAY = 86_400_000_000_000L;

	private static final double NANOS_PER_SECOND = 1e9;

	private final Map<String, EndpointState> endpoints = new HashMap<>();

	private final Map<Object, Running> leases = new HashMap<>();

	private Map<GpuUsageKey, Double> gpuSeconds = new HashMap<>();

	private Map<GpuUsageKey, Double> cost = new HashMap<>();

	private Map<String, Double> nodeBusy = new HashMap<>();

	private Map<String, Double> endpointBusy = new HashMap<>();

	/**
	 * A lease began on an endpoint.
	 * @param lease the lease's identity (compared with {@code equals})
	 * @param endpoint the endpoint key
	 * @param node the endpoint's node
	 * @param share the endpoint's share of one GPU (slices over slices per GPU; more than
	 * 1 for an endpoint on several whole GPUs)
	 * @param gpuHourly price of one whole GPU of the endpoint's node an hour (0 when
	 * unpriced)
	 * @param tenant tenant id
	 * @param tier tier
	 * @param model model
	 * @param epochNanos when
	 */
	public void started(Object lease, String endpoint, String node, double share, double gpuHourly, String tenant,
			Tier tier, String model, long epochNanos) {
		if (this.leases.containsKey(lease)) {
			return;
		}
		EndpointState state = this.endpoints.computeIfAbsent(endpoint, (key) -> new EndpointState(key, epochNanos));
		accrue(state, epochNanos);
		state.node = node;
		state.share = share;
		state.gpuHourly = gpuHourly;
		Running running = new Running(tenant, tier, model, state);
		state.active.add(running);
		this.leases.put(lease, running);
	}

	/**
	 * A lease ended; an unknown or already ended lease is ignored.
	 * @param lease the lease's identity
	 * @param epochNanos when
	 */
	public void ended(Object lease, long epochNanos) {
		Running running = this.leases.remove(lease);
		if (running == null) {
			return;
		}
		accrue(running.endpoint, epochNanos);
		running.endpoint.active.remove(running);
	}

	/**
	 * Leases holding a slot now.
	 * @return count
	 */
	public int running() {
		return this.leases.size();
	}

	/**
	 * Leases of one tenant holding a slot now.
	 * @param tenant tenant id
	 * @return count
	 */
	public long running(String tenant) {
		return this.leases.values().stream().filter((running) -> running.tenant.equals(tenant)).count();
	}

	/**
	 * Accrues every endpoint up to a time and hands over what was attributed since the
	 * last drain.
	 * @param epochNanos now
	 * @return GPU-seconds per key and attributed busy GPU-seconds per node since the last
	 * drain
	 */
	public Attribution drain(long epochNanos) {
		this.endpoints.values().forEach((state) -> accrue(state, epochNanos));
		Attribution drained = new Attribution(this.gpuSeconds, this.cost, this.nodeBusy, this.endpointBusy);
		this.gpuSeconds = new HashMap<>();
		this.cost = new HashMap<>();
		this.nodeBusy = new HashMap<>();
		this.endpointBusy = new HashMap<>();
		return drained;
	}

	private void accrue(EndpointState state, long until) {
		long from = state.lastNanos;
		if (until <= from) {
			return;
		}
		state.lastNanos = until;
		int k = state.active.size();
		if (k == 0) {
			return;
		}
		double busy = (until - from) * state.share / NANOS_PER_SECOND;
		this.nodeBusy.merge(state.node, busy, Double::sum);
		this.endpointBusy.merge(state.key, busy, Double::sum);
		while (from < until) {
			long dayStart = Math.floorDiv(from, NANOS_PER_DAY) * NANOS_PER_DAY;
			long end = Math.min(until, dayStart + NANOS_PER_DAY);
			LocalDate day = LocalDate.ofEpochDay(dayStart / NANOS_PER_DAY);
			double each = (end - from) * state.share / k / NANOS_PER_SECOND;
			double price = each * state.gpuHourly / 3600;
			for (Running running : state.active) {
				GpuUsageKey key = new GpuUsageKey(running.tenant, running.tier, running.model, day);
				this.gpuSeconds.merge(key, each, Double::sum);
				if (price > 0) {
					this.cost.merge(key, price, Double::sum);
				}
			}
			from = end;
		}
	}

	/**
	 * What was attributed over an interval.
	 *
	 * @param gpuSeconds GPU-seconds per tenant, tier, model and day
	 * @param cost their price in US dollars, at the GPU hourly prices given when the
	 * leases started (keys without a price are absent)
	 * @param nodeBusySeconds attributed busy GPU-seconds per node (the sum over its
	 * endpoints of share times busy time)
	 * @param endpointBusySeconds attributed busy GPU-seconds per endpoint (share times
	 * busy time), to be set against the GPU the endpoint runs on
	 */
	public record Attribution(Map<GpuUsageKey, Double> gpuSeconds, Map<GpuUsageKey, Double> cost,
			Map<String, Double> nodeBusySeconds, Map<String, Double> endpointBusySeconds) {

		public Attribution {
			gpuSeconds = Map.copyOf(gpuSeconds);
			cost = Map.copyOf(cost);
			nodeBusySeconds = Map.copyOf(nodeBusySeconds);
			endpointBusySeconds = Map.copyOf(endpointBusySeconds);
		}

	}

	private static final class EndpointState {

		final List<Running> active = new ArrayList<>(4);

		final String key;

		long lastNanos;

		String node = "";

		double share;

		double gpuHourly;

		EndpointState(String key, long since) {
			this.key = key;
			this.lastNanos = since;
		}

	}

	private record Running(String tenant, Tier tier, String model, EndpointState endpoint) {

		@Override
		public boolean equals(Object other) {
			return this == other;
		}

		@Override
		public int hashCode() {
			return System.identityHashCode(this);
		}

	}

}
