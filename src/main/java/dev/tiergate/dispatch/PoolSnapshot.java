package dev.tiergate.dispatch;

import java.util.List;
import java.util.Map;
import dev.tiergate.tier.Tier;

/**
 * A pool's scheduling state at one moment.
 *
 * @param pool pool (model) name
 * @param acceptingSlots slots of endpoints that take new requests
 * @param capacity accepting slots plus slots still held on draining endpoints
 * @param used slots in use
 * @param free free slots on accepting endpoints
 * @param unreserved slots not reserved for any tier
 * @param sharedUsed unreserved slots in use
 * @param queued tickets waiting
 * @param endpoints endpoints known (accepting or draining)
 * @param tiers per-tier state
 */
public record PoolSnapshot(String pool, int acceptingSlots, int capacity, int used, int free, int unreserved,
		int sharedUsed, int queued, int endpoints, Map<Tier, TierState> tiers) {

	/**
	 * One tier in one pool.
	 *
	 * @param queued tickets waiting
	 * @param inFlight leases held
	 * @param borrowed leases held on slots reserved for other tiers
	 * @param reserved slots reserved for this tier
	 * @param oldestWaitNanos how long the longest-waiting ticket has waited
	 * @param admitted tickets dispatched (first dispatch only)
	 * @param preempted leases preempted
	 * @param rejected rejections by reason code
	 * @param tenants per-tenant state
	 */
	public record TierState(int queued, int inFlight, int borrowed, int reserved, long oldestWaitNanos, long admitted,
			long preempted, Map<String, Long> rejected, List<TenantState> tenants) {
	}

	/**
	 * One tenant within one tier.
	 *
	 * @param tenant tenant id
	 * @param queued tickets waiting
	 * @param inFlight leases held
	 * @param dispatched dispatches so far
	 * @param dispatchedCost tokens dispatched so far
	 * @param rejected rejections so far
	 */
	public record TenantState(String tenant, int queued, int inFlight, long dispatched, long dispatchedCost,
			long rejected) {
	}

}
