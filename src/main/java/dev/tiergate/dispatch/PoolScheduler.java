package dev.tiergate.dispatch;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.tiergate.routing.BalancingPolicy;
import dev.tiergate.routing.Endpoint;
import dev.tiergate.tier.ReservePlacement;
import dev.tiergate.tier.Tier;
import dev.tiergate.tier.TierDefinition;

/**
 * The scheduler of one pool (the endpoints serving one model): a deterministic state
 * machine with no I/O, no threads and no clock. Each event carries the time on the
 * caller's clock, and every decision goes to the {@link SchedulerDecisions} given at
 * construction, before the event method returns. The live runtime, the simulator and the
 * benchmark all drive this same code. It is not thread-safe: callers serialize events.
 * <p>
 * Capacity rules. Each tier {@code t} reserves {@code ceil(reservedShare x slots)} of the
 * pool's accepting slots; the rest is shared. A non-borrowed lease of {@code t} counts
 * against {@code t}'s reserve first, then against the shared part. A tier that
 * {@link TierDefinition#borrow() borrows} may also run on idle slots reserved for another
 * tier, as a preemptible lease that the owner takes back when it needs the slot. When no
 * slot is free, a waiting ticket preempts the most recently started preemptible lease of
 * a tier it {@link TierDefinition#mayPreempt() may preempt}. A preempted ticket that has
 * sent nothing goes back to the head of its tier; each ticket can be preempted a bounded
 * number of times. Across tiers, priority is strict; within a tier, tenants share by
 * deficit round robin on cost, weighted.
 * <p>
 * Where a granted lease runs: without a {@link BalancingPolicy}, on the endpoint with the
 * fewest leases (the top of a min-heap of the endpoints with a free slot); with one,
 * wherever the policy picks among those endpoints. A lease that preemption frees a slot
 * for runs on the victim's endpoint. A ticket sent back by
 * {@link #retryElsewhere(Lease, long)} avoids the endpoint that failed it when another
 * has room.
 * <p>
 * Reserve placed on endpoints. When the most urgent tier with a reserved share has
 * {@link ReservePlacement#ENDPOINTS}, that tier (the <i>owner</i>) gets
 * {@code ceil(reservedShare x endpoints)} whole accepting endpoints instead of slots
 * spread over all of them, chosen by a stable rule (the same set of endpoints gives the
 * same choice in every replica: round robin over the nodes, by a hash of each id within a
 * node), so its requests share an engine's batch with few others. The owner's requests go
 * to its own endpoints first (fewest leases first); when those are full, a lower-tier
 * guest there is preempted, and only then does the owner spill to the shared endpoints by
 * the rules above. Other tiers run on the shared endpoints by the rules above, over the
 * shared endpoints' slots; a tier that borrows may also run, as a preemptible guest, on
 * an owner's endpoint that has a free slot and fewer than the owner's
 * {@link TierDefinition#borrowPerEndpoint()} guests.
 */
public final class PoolScheduler {

	private static final int OWN = 0;

	private static final int SHARED = 1;

	private static final int BORROW = 2;

	private static final int NONE = -1;

	/** The owner's lease on one of its own endpoints. */
	private static final int HOME = 3;

	/** A lower tier's lease on one of the owner's endpoints. */
	private static final int GUEST = 4;

	private static final int LIST_SHARED = 0;

	private static final int LIST_PINNED = 1;

	private static final int LIST_BORROWED = 2;

	private static final int LIST_GUEST = 3;

	private static final int LISTS = 4;

	private static final Tier[] TIERS = Tier.values();

	private final String pool;

	private final SchedulerDecisions out;

	private final BalancingPolicy policy;

	private final HeapCandidates candidates = new HeapCandidates();

	private final int preemptionBudget;

	private final int maxQueuedPerPool;

	private final TierDefinition[] definitions = new TierDefinition[TIERS.length];

	private final Map<String, EndpointSlot> endpoints = new HashMap<>();

	private EndpointSlot[] heap = new EndpointSlot[16];

	private int heapSize;

	private int endpointSeq;

	private int acceptingSlots;

	private final int[] reserved = new int[TIERS.length];

	private int unreserved;

	private final int[] nonBorrowed = new int[TIERS.length];

	private final int[] borrowed = new int[TIERS.length];

	private int totalBorrowed;

	private int used;

	private final TierQueue[] queues = new TierQueue[TIERS.length];

	private int queued;

	private final Lease[] listHead = new Lease[TIERS.length * LISTS];

	private final Lease[] listTail = new Lease[TIERS.length * LISTS];

	/** The tier whose reserve is whole endpoints, or NONE. */
	private int owner = NONE;

	private int borrowPerEndpoint;

	/** The owner's endpoints, by seq. */
	private final List<EndpointSlot> owned = new ArrayList<>();

	private int ownedSlots;

	private final int[] home = new int[TIERS.length];

	private final int[] guests = new int[TIERS.length];

	private int totalGuests;

	private long leaseIds;

	private long startSeq;

	private final long[] admitted = new long[TIERS.length];

	private final long[] preempted = new long[TIERS.length];

	private final long[] retried = new long[TIERS.length];

	private final long[][] rejected = new long[TIERS.length][RejectReason.values().length];

	/**
	 * A scheduler for one pool.
	 * @param pool the pool's name (the model)
	 * @param definitions the tier definitions
	 * @param preemptionBudget how many times one ticket may be preempted (0 turns
	 * preemption and borrowing off)
	 * @param maxQueuedPerPool most tickets waiting in the pool across tiers; beyond it
	 * the lowest tier is shed first
	 * @param out where decisions go
	 */
	public PoolScheduler(String pool, Map<Tier, TierDefinition> definitions, int preemptionBudget, int maxQueuedPerPool,
			SchedulerDecisions out) {
		this(pool, definitions, preemptionBudget, maxQueuedPerPool, out, null);
	}

	/**
	 * A scheduler for one pool with a balancing policy.
	 * @param pool the pool's name (the model)
	 * @param definitions the tier definitions
	 * @param preemptionBudget how many times one ticket may be preempted (0 turns
	 * preemption and borrowing off)
	 * @param maxQueuedPerPool most tickets waiting in the pool across tiers; beyond it
	 * the lowest tier is shed first
	 * @param out where decisions go
	 * @param policy picks the endpoint of each lease among those with a free slot;
	 * {@code null} for least-outstanding (the heap's top, the fast default)
	 */
	public PoolScheduler(String pool, Map<Tier, TierDefinition> definitions, int preemptionBudget, int maxQueuedPerPool,
			SchedulerDecisions out, BalancingPolicy policy) {
		this.pool = pool;
		this.out = out;
		this.policy = policy;
		this.preemptionBudget = preemptionBudget;
		this.maxQueuedPerPool = maxQueuedPerPool;
		for (Tier tier : TIERS) {
			this.queues[tier.ordinal()] = new TierQueue();
		}
		applyDefinitions(definitions);
	}

	/**
	 * The pool's name.
	 * @return pool
	 */
	public String pool() {
		return this.pool;
	}

	/**
	 * A request arrives.
	 * @param ticket a new ticket
	 * @param now the time
	 */
	public void submit(Ticket ticket, long now) {
		if (ticket.state != Ticket.State.NEW) {
			throw new IllegalStateException("Ticket already submitted");
		}
		ticket.preemptionsLeft = this.preemptionBudget;
		ticket.arrivalNanos = now;
		ticket.queuedNanos = now;
		int tier = ticket.tier.ordinal();
		if (this.acceptingSlots == 0) {
			reject(ticket, RejectReason.NO_CAPACITY);
			return;
		}
		if (ticket.deadlineLimitNanos <= now) {
			// A rejoining request whose wait ran out meanwhile.
			reject(ticket, RejectReason.QUEUE_TIMEOUT);
			return;
		}
		if (this.queued == 0 && this.owner == NONE && this.heapSize > 0) {
			int kind = kind(tier, ticket.preemptionsLeft);
			if (kind != NONE) {
				dispatch(ticket, pick(ticket, now), kind, now);
				return;
			}
		}
		if (this.queued == 0 && tier == this.owner) {
			EndpointSlot own = pickOwned(ticket, false);
			if (own != null) {
				dispatch(ticket, own, HOME, now);
				return;
			}
		}
		TierQueue queue = this.queues[tier];
		if (queue.size >= this.definitions[tier].maxQueueDepth()) {
			reject(ticket, RejectReason.OVERLOADED);
			return;
		}
		if (this.queued >= this.maxQueuedPerPool && !shedBelow(tier)) {
			reject(ticket, RejectReason.OVERLOADED);
			return;
		}
		ticket.deadlineNanos = Math.min(now + this.definitions[tier].maxQueueWait().toNanos(),
				ticket.deadlineLimitNanos);
		ticket.state = Ticket.State.QUEUED;
		queue.add(ticket);
		this.queued++;
		pump(now);
	}

	/**
	 * A lease's request ended (success, error, disconnect). Finishing a lease that is no
	 * longer active (already finished, or preempted) does nothing, so every path may call
	 * this.
	 * @param lease the lease
	 * @param now the time
	 * @return {@code true} if this call freed the slot
	 */
	public boolean finish(Lease lease, long now) {
		if (!lease.active) {
			return false;
		}
		release(lease);
		lease.ticket.state = Ticket.State.DONE;
		lease.ticket.lease = null;
		pump(now);
		return true;
	}

	/**
	 * The caller gave up on a ticket (client disconnected): it leaves the queue, or its
	 * lease ends.
	 * @param ticket the ticket
	 * @param now the time
	 */
	public void cancel(Ticket ticket, long now) {
		if (ticket.state == Ticket.State.QUEUED) {
			this.queues[ticket.tier.ordinal()].remove(ticket);
			this.queued--;
			ticket.state = Ticket.State.DONE;
		}
		else if (ticket.state == Ticket.State.RUNNING) {
			finish(ticket.lease, now);
		}
	}

	/**
	 * The lease's request is about to send its first bytes to its client; from now on a
	 * preemption ends it instead of requeueing it.
	 * @param lease the lease
	 * @return {@code false} if the lease was preempted meanwhile (the caller must send
	 * nothing)
	 */
	public boolean markSent(Lease lease) {
		if (!lease.active) {
			return false;
		}
		lease.sent = true;
		return true;
	}

	/**
	 * The lease's request failed on its endpoint before anything reached its client: the
	 * slot is freed and the ticket goes back to the head of its tier, to run again on
	 * another endpoint when one has room (the same one only if no other has). Not a
	 * preemption: the ticket's preemption budget is untouched. Without accepting
	 * endpoints the ticket is rejected with {@link RejectReason#NO_CAPACITY} at once.
	 * @param lease the lease
	 * @param now the time
	 * @return {@code true} if this call freed the slot; {@code false} when the lease had
	 * already ended or been preempted, or its request had sent something
	 */
	public boolean retryElsewhere(Lease lease, long now) {
		if (!lease.active || lease.sent) {
			return false;
		}
		release(lease);
		Ticket ticket = lease.ticket;
		int t = ticket.tier.ordinal();
		ticket.lease = null;
		ticket.avoid = lease.endpoint.id;
		this.retried[t]++;
		if (this.acceptingSlots == 0) {
			reject(ticket, RejectReason.NO_CAPACITY);
			return true;
		}
		ticket.state = Ticket.State.QUEUED;
		ticket.queuedNanos = now;
		ticket.deadlineNanos = now + this.definitions[t].maxQueueWait().toNanos();
		this.queues[t].addRequeued(ticket);
		this.queued++;
		pump(now);
		return true;
	}

	/**
	 * Rejects every ticket still waiting for a slot (running leases are left alone).
	 * @param reason why, e.g. {@link RejectReason#SHUTTING_DOWN}
	 */
	public void rejectQueued(RejectReason reason) {
		for (Tier tier : TIERS) {
			TierQueue queue = this.queues[tier.ordinal()];
			Ticket first;
			while ((first = queue.earliestDeadline()) != null) {
				queue.remove(first);
				this.queued--;
				reject(first, reason);
			}
		}
	}

	/**
	 * Time passed: tickets past their deadline are rejected.
	 * @param now the time
	 */
	public void tick(long now) {
		for (Tier tier : TIERS) {
			TierQueue queue = this.queues[tier.ordinal()];
			Ticket first;
			while ((first = queue.earliestDeadline()) != null && first.deadlineNanos <= now) {
				queue.remove(first);
				this.queued--;
				reject(first, RejectReason.QUEUE_TIMEOUT);
			}
		}
	}

	/**
	 * An endpoint appeared or changed.
	 * @param id endpoint id
	 * @param slots its slots
	 * @param accepting whether it takes new requests (Ready, not being deleted)
	 * @param attachment caller's data, handed back on leases
	 * @param now the time
	 */
	public void upsertEndpoint(String id, int slots, boolean accepting, Object attachment, long now) {
		upsertEndpoint(id, slots, accepting, null, attachment, now);
	}

	/**
	 * An endpoint appeared or changed, with the node it runs on (the endpoints of a tier
	 * that owns whole endpoints are spread over nodes).
	 * @param id endpoint id
	 * @param slots its slots
	 * @param accepting whether it takes new requests (Ready, not being deleted)
	 * @param node the node it runs on; {@code null} keeps the one known (none: the
	 * endpoint counts as a node of its own)
	 * @param attachment caller's data, handed back on leases
	 * @param now the time
	 */
	public void upsertEndpoint(String id, int slots, boolean accepting, String node, Object attachment, long now) {
		EndpointSlot endpoint = this.endpoints.get(id);
		if (endpoint == null) {
			endpoint = new EndpointSlot(id, this.endpointSeq++);
			this.endpoints.put(id, endpoint);
		}
		if (node != null) {
			endpoint.node = node;
		}
		if (endpoint.accepting) {
			this.acceptingSlots -= endpoint.slots;
		}
		endpoint.slots = Math.max(0, slots);
		endpoint.accepting = accepting;
		endpoint.removed = false;
		endpoint.attachment = attachment;
		if (accepting) {
			this.acceptingSlots += endpoint.slots;
		}
		placeInHeap(endpoint);
		capacityChanged(now);
	}

	/**
	 * An endpoint went away. Its leases stay until their requests end; it takes no new
	 * one.
	 * @param id endpoint id
	 * @param now the time
	 */
	public void removeEndpoint(String id, long now) {
		EndpointSlot endpoint = this.endpoints.get(id);
		if (endpoint == null) {
			return;
		}
		if (endpoint.accepting) {
			this.acceptingSlots -= endpoint.slots;
		}
		endpoint.accepting = false;
		endpoint.removed = true;
		placeInHeap(endpoint);
		if (endpoint.used == 0) {
			this.endpoints.remove(id);
		}
		capacityChanged(now);
	}

	/**
	 * The tier definitions changed.
	 * @param definitions the new definitions
	 * @param now the time
	 */
	public void configure(Map<Tier, TierDefinition> definitions, long now) {
		applyDefinitions(definitions);
		pump(now);
	}

	private void applyDefinitions(Map<Tier, TierDefinition> definitions) {
		for (Tier tier : TIERS) {
			this.definitions[tier.ordinal()] = definitions.get(tier);
		}
		recomputeReserves();
	}

	private void capacityChanged(long now) {
		recomputeReserves();
		if (this.acceptingSlots == 0) {
			for (Tier tier : TIERS) {
				TierQueue queue = this.queues[tier.ordinal()];
				Ticket first;
				while ((first = queue.earliestDeadline()) != null) {
					queue.remove(first);
					this.queued--;
					reject(first, RejectReason.NO_CAPACITY);
				}
			}
			return;
		}
		pump(now);
	}

	private void recomputeReserves() {
		recomputeOwnership();
		// With an owner, the slot accounting covers the shared endpoints only.
		int base = (this.owner == NONE) ? this.acceptingSlots : this.acceptingSlots - this.ownedSlots;
		int sum = 0;
		for (Tier tier : TIERS) {
			int t = tier.ordinal();
			double share = (t == this.owner) ? 0 : this.definitions[t].reservedShare();
			this.reserved[t] = (int) Math.ceil(share * base - 1e-9);
			sum += this.reserved[t];
		}
		for (int t = TIERS.length - 1; t >= 0 && sum > base; t--) {
			int cut = Math.min(this.reserved[t], sum - base);
			this.reserved[t] -= cut;
			sum -= cut;
		}
		this.unreserved = base - sum;
	}

	/**
	 * Chooses the owner's endpoints: {@code ceil(share x accepting endpoints)}, taken in
	 * turn from each node (nodes and, within a node, endpoints ordered by a hash of their
	 * name), so the choice depends only on the set of endpoints.
	 */
	private void recomputeOwnership() {
		int newOwner = NONE;
		for (int t = 0; t < TIERS.length; t++) {
			TierDefinition d = this.definitions[t];
			if (d.reservedShare() > 0) {
				if (d.reservePlacement() == ReservePlacement.ENDPOINTS) {
					newOwner = t;
				}
				break;
			}
		}
		if (newOwner == NONE && this.owner == NONE) {
			return;
		}
		this.owner = newOwner;
		List<EndpointSlot> chosen = new ArrayList<>();
		if (newOwner != NONE) {
			this.borrowPerEndpoint = this.definitions[newOwner].borrowPerEndpoint();
			Map<String, List<EndpointSlot>> byNode = new LinkedHashMap<>();
			List<EndpointSlot> accepting = new ArrayList<>();
			for (EndpointSlot endpoint : this.endpoints.values()) {
				if (endpoint.accepting && endpoint.slots > 0) {
					accepting.add(endpoint);
				}
			}
			accepting.sort(Comparator.comparingInt((EndpointSlot e) -> mix(e.id)).thenComparing((e) -> e.id));
			for (EndpointSlot endpoint : accepting) {
				byNode.computeIfAbsent((endpoint.node != null) ? endpoint.node : endpoint.id, (k) -> new ArrayList<>())
					.add(endpoint);
			}
			List<String> nodes = new ArrayList<>(byNode.keySet());
			nodes.sort(Comparator.comparingInt(PoolScheduler::mix).thenComparing(Comparator.naturalOrder()));
			int wanted = Math.min(accepting.size(),
					(int) Math.ceil(this.definitions[newOwner].reservedShare() * accepting.size() - 1e-9));
			for (int round = 0; chosen.size() < wanted; round++) {
				for (String node : nodes) {
					List<EndpointSlot> onNode = byNode.get(node);
					if (round < onNode.size() && chosen.size() < wanted) {
						chosen.add(onNode.get(round));
					}
				}
			}
		}
		for (EndpointSlot endpoint : this.owned) {
			endpoint.owned = false;
		}
		for (EndpointSlot endpoint : chosen) {
			endpoint.owned = true;
		}
		List<EndpointSlot> previous = new ArrayList<>(this.owned);
		this.owned.clear();
		this.ownedSlots = 0;
		chosen.sort(Comparator.comparingInt((EndpointSlot e) -> e.seq));
		for (EndpointSlot endpoint : chosen) {
			this.owned.add(endpoint);
			this.ownedSlots += endpoint.slots;
		}
		for (EndpointSlot endpoint : previous) {
			placeInHeap(endpoint);
		}
		for (EndpointSlot endpoint : chosen) {
			placeInHeap(endpoint);
		}
	}

	/** A stable hash of a name, the same in every JVM. */
	private static int mix(String name) {
		int h = name.hashCode() * 0x9E3779B9;
		return h ^ (h >>> 16);
	}

	/**
	 * The owner's endpoint a new lease runs on: accepting, with a free slot (for a guest,
	 * also fewer guests than allowed), fewest leases first; not the one the ticket must
	 * avoid while another qualifies.
	 */
	private EndpointSlot pickOwned(Ticket ticket, boolean guest) {
		EndpointSlot best = null;
		EndpointSlot avoided = null;
		String avoid = (ticket != null) ? ticket.avoid : null;
		for (int i = 0; i < this.owned.size(); i++) {
			EndpointSlot endpoint = this.owned.get(i);
			if (!endpoint.accepting || endpoint.used >= endpoint.slots
					|| (guest && endpoint.guests >= this.borrowPerEndpoint)) {
				continue;
			}
			if (avoid != null && endpoint.id.equals(avoid)) {
				avoided = endpoint;
				continue;
			}
			if (best == null || endpoint.used < best.used) {
				best = endpoint;
			}
		}
		return (best != null) ? best : avoided;
	}

	/**
	 * The guest the owner takes a slot from when its own endpoints are full: the most
	 * recently started one of the least urgent tier whose release leaves a slot there.
	 */
	private Lease guestVictim() {
		for (int s = TIERS.length - 1; s >= 0; s--) {
			for (Lease lease = this.listTail[s * LISTS + LIST_GUEST]; lease != null; lease = lease.prev) {
				EndpointSlot endpoint = lease.endpoint;
				if (endpoint.owned && endpoint.accepting && endpoint.used <= endpoint.slots) {
					return lease;
				}
			}
		}
		return null;
	}

	private int sharedUsed() {
		int shared = 0;
		for (int t = 0; t < TIERS.length; t++) {
			shared += Math.max(0, this.nonBorrowed[t] - this.reserved[t]);
		}
		return shared;
	}

	private int idleReserveOf(int except) {
		int idle = 0;
		for (int t = 0; t < TIERS.length; t++) {
			if (t != except) {
				idle += Math.max(0, this.reserved[t] - this.nonBorrowed[t]);
			}
		}
		return idle;
	}

	/**
	 * What kind of slot tier {@code t} may take if one is free, by the accounting alone.
	 */
	private int kind(int t, int preemptionsLeft) {
		if (this.nonBorrowed[t] < this.reserved[t]) {
			return OWN;
		}
		if (sharedUsed() < this.unreserved) {
			return SHARED;
		}
		if (this.definitions[t].borrow() && preemptionsLeft > 0 && idleReserveOf(t) > this.totalBorrowed) {
			return BORROW;
		}
		return NONE;
	}

	/**
	 * Serves waiting tickets in strict tier order. A tier that cannot be served is passed
	 * over; whenever a lower tier then makes progress (a dispatch or a preemption changes
	 * the accounting), the scan starts again from the top, so no higher tier is left
	 * waiting for what it could now take.
	 */
	private void pump(long now) {
		int t = 0;
		while (t < TIERS.length) {
			TierQueue queue = this.queues[t];
			boolean progressed = false;
			while (queue.size > 0 && serveOne(t, queue, now)) {
				progressed = true;
			}
			t = (progressed && higherTierWaiting(t)) ? 0 : t + 1;
		}
	}

	private boolean higherTierWaiting(int t) {
		for (int u = 0; u < t; u++) {
			if (this.queues[u].size > 0) {
				return true;
			}
		}
		return false;
	}

	/**
	 * Dispatches, preempts for, or expires the next ticket of a tier; {@code false} when
	 * it must wait.
	 */
	private boolean serveOne(int t, TierQueue queue, long now) {
		Ticket requeued = queue.peekRequeued();
		int budget = (requeued != null) ? requeued.preemptionsLeft : this.preemptionBudget;
		if (this.owner != NONE && serveOwned(t, queue, requeued, budget, now)) {
			return true;
		}
		if (this.heapSize > 0) {
			int kind = kind(t, budget);
			if (kind != NONE) {
				Ticket ticket = poll(queue);
				if (!expired(ticket, now)) {
					dispatch(ticket, pick(ticket, now), kind, now);
				}
				return true;
			}
		}
		Lease victim = findVictim(t, budget);
		if (victim == null) {
			return false;
		}
		Ticket ticket = poll(queue);
		if (expired(ticket, now)) {
			return true;
		}
		preempt(victim, now);
		// The victim's endpoint when it has room (the usual case), else wherever a slot
		// is free.
		EndpointSlot endpoint = (victim.endpoint.heapIndex >= 0) ? victim.endpoint : this.heap[0];
		int kind = kind(t, ticket.preemptionsLeft);
		if (kind == NONE) {
			throw new IllegalStateException("Preempted for a ticket that may not take the slot");
		}
		dispatch(ticket, endpoint, kind, now);
		return true;
	}

	/**
	 * The steps on the owner's endpoints: the owner to a free slot of its own, else in
	 * place of a guest there; only after the shared endpoints, a borrowing tier as a
	 * guest. {@code false} when nothing was done here.
	 */
	private boolean serveOwned(int t, TierQueue queue, Ticket requeued, int budget, long now) {
		if (t == this.owner) {
			EndpointSlot own = pickOwned(requeued, false);
			if (own != null) {
				Ticket ticket = poll(queue);
				if (!expired(ticket, now)) {
					dispatch(ticket, own, HOME, now);
				}
				return true;
			}
			Lease victim = guestVictim();
			if (victim != null) {
				Ticket ticket = poll(queue);
				if (!expired(ticket, now)) {
					preempt(victim, now);
					dispatch(ticket, victim.endpoint, HOME, now);
				}
				return true;
			}
			return false;
		}
		if (this.heapSize > 0 && kind(t, budget) != NONE) {
			return false;
		}
		if (this.definitions[t].borrow() && budget > 0) {
			EndpointSlot guest = pickOwned(requeued, true);
			if (guest != null) {
				Ticket ticket = poll(queue);
				if (!expired(ticket, now)) {
					dispatch(ticket, guest, GUEST, now);
				}
				return true;
			}
		}
		return false;
	}

	private Ticket poll(TierQueue queue) {
		Ticket ticket = queue.poll();
		this.queued--;
		return ticket;
	}

	private boolean expired(Ticket ticket, long now) {
		if (ticket.deadlineNanos <= now) {
			reject(ticket, RejectReason.QUEUE_TIMEOUT);
			return true;
		}
		return false;
	}

	/**
	 * The lease a waiting ticket of tier {@code t} would preempt: a borrowed lease on its
	 * own reserve first, else the most recently started preemptible lease of a tier it
	 * may preempt, if taking that slot is within the rules.
	 */
	private Lease findVictim(int t, int budget) {
		Lease best = null;
		if (this.nonBorrowed[t] < this.reserved[t]) {
			for (int s = 0; s < TIERS.length; s++) {
				Lease candidate = (s != t) ? latestFreeingASlot(s * LISTS + LIST_BORROWED) : null;
				if (candidate != null && (best == null || candidate.startSeq > best.startSeq)) {
					best = candidate;
				}
			}
			if (best != null) {
				return best;
			}
		}
		for (Tier victimTier : this.definitions[t].mayPreempt()) {
			int s = victimTier.ordinal();
			for (int list : new int[] { LIST_SHARED, LIST_BORROWED }) {
				Lease candidate = latestFreeingASlot(s * LISTS + list);
				if (candidate != null && (best == null || candidate.startSeq > best.startSeq)
						&& legalAfterFreeing(t, budget, candidate)) {
					best = candidate;
				}
			}
		}
		return best;
	}

	/**
	 * The most recently started lease of a list whose release leaves a slot to run on:
	 * any lease while some endpoint has a free slot (the accounting may be what blocks),
	 * else one whose own endpoint gets a free slot back (not one on a draining endpoint,
	 * or on one that has more leases than slots).
	 */
	private Lease latestFreeingASlot(int list) {
		if (this.heapSize > 0 && this.owner == NONE) {
			return this.listTail[list];
		}
		for (Lease lease = this.listTail[list]; lease != null; lease = lease.prev) {
			EndpointSlot endpoint = lease.endpoint;
			// With an owner, a slot freed on its endpoints is no slot of the shared part.
			if (!endpoint.owned && (this.heapSize > 0 || (endpoint.accepting && endpoint.used <= endpoint.slots))) {
				return lease;
			}
		}
		return null;
	}

	private boolean legalAfterFreeing(int t, int budget, Lease victim) {
		int s = victim.ticket.tier.ordinal();
		if (victim.borrowed) {
			this.borrowed[s]--;
			this.totalBorrowed--;
		}
		else {
			this.nonBorrowed[s]--;
		}
		int kind = kind(t, budget);
		if (victim.borrowed) {
			this.borrowed[s]++;
			this.totalBorrowed++;
		}
		else {
			this.nonBorrowed[s]++;
		}
		return kind != NONE;
	}

	private boolean shedBelow(int tier) {
		for (int s = TIERS.length - 1; s > tier; s--) {
			Ticket newest = this.queues[s].newest();
			if (newest != null) {
				this.queues[s].remove(newest);
				this.queued--;
				reject(newest, RejectReason.OVERLOADED);
				return true;
			}
		}
		return false;
	}

	/**
	 * The endpoint a new lease runs on, among those with a free slot (the heap is not
	 * empty): the heap's top, or the policy's pick; never the endpoint the ticket must
	 * avoid while another has room. The default path reads two fields and allocates
	 * nothing.
	 */
	private EndpointSlot pick(Ticket ticket, long now) {
		if (this.policy == null && ticket.avoid == null) {
			return this.heap[0];
		}
		int i = 0;
		if (this.policy != null && this.heapSize > 1) {
			this.candidates.now = now;
			i = this.policy.choose(ticket.affinityKey, this.candidates);
			if (i < 0 || i >= this.heapSize) {
				i = 0;
			}
		}
		EndpointSlot chosen = this.heap[i];
		if (ticket.avoid != null && this.heapSize > 1 && chosen.id.equals(ticket.avoid)) {
			if (i != 0) {
				return this.heap[0];
			}
			// The next fewest leases after the top of a min-heap is one of its children.
			return (this.heapSize > 2 && less(this.heap[2], this.heap[1])) ? this.heap[2] : this.heap[1];
		}
		return chosen;
	}

	private void dispatch(Ticket ticket, EndpointSlot endpoint, int kind, long now) {
		int t = ticket.tier.ordinal();
		boolean preemptible = ticket.preemptionsLeft > 0;
		Lease lease = new Lease(++this.leaseIds, ticket, endpoint, kind == BORROW || kind == GUEST, ++this.startSeq,
				now, preemptible);
		endpoint.used++;
		placeInHeap(endpoint);
		this.used++;
		if (kind == HOME) {
			lease.zone = HOME;
			this.home[t]++;
			link(lease, t * LISTS + LIST_PINNED);
		}
		else if (kind == GUEST) {
			lease.zone = GUEST;
			this.guests[t]++;
			this.totalGuests++;
			endpoint.guests++;
			link(lease, t * LISTS + LIST_GUEST);
		}
		else if (kind == BORROW) {
			this.borrowed[t]++;
			this.totalBorrowed++;
			link(lease, t * LISTS + LIST_BORROWED);
		}
		else {
			this.nonBorrowed[t]++;
			link(lease, t * LISTS + (preemptible ? LIST_SHARED : LIST_PINNED));
		}
		if (!ticket.requeued) {
			this.admitted[t]++;
		}
		TenantQueue tenant = this.queues[t].tenant(ticket.tenant);
		tenant.inFlight++;
		tenant.dispatched++;
		tenant.dispatchedCost += ticket.cost;
		ticket.state = Ticket.State.RUNNING;
		ticket.lease = lease;
		this.out.dispatched(ticket, lease);
	}

	private void release(Lease lease) {
		lease.active = false;
		unlink(lease);
		EndpointSlot endpoint = lease.endpoint;
		endpoint.used--;
		placeInHeap(endpoint);
		if (endpoint.removed && endpoint.used == 0) {
			this.endpoints.remove(endpoint.id, endpoint);
		}
		this.used--;
		int t = lease.ticket.tier.ordinal();
		if (lease.zone == HOME) {
			this.home[t]--;
		}
		else if (lease.zone == GUEST) {
			this.guests[t]--;
			this.totalGuests--;
			endpoint.guests--;
		}
		else if (lease.borrowed) {
			this.borrowed[t]--;
			this.totalBorrowed--;
		}
		else {
			this.nonBorrowed[t]--;
		}
		this.queues[t].tenant(lease.ticket.tenant).inFlight--;
	}

	private void preempt(Lease lease, long now) {
		release(lease);
		Ticket ticket = lease.ticket;
		int t = ticket.tier.ordinal();
		ticket.preemptionsLeft--;
		ticket.lease = null;
		this.preempted[t]++;
		boolean requeue = !lease.sent;
		if (requeue) {
			ticket.state = Ticket.State.QUEUED;
			ticket.queuedNanos = now;
			ticket.deadlineNanos = now + this.definitions[t].maxQueueWait().toNanos();
			this.queues[t].addRequeued(ticket);
			this.queued++;
		}
		else {
			ticket.state = Ticket.State.DONE;
		}
		this.out.preempted(lease, requeue);
	}

	private void reject(Ticket ticket, RejectReason reason) {
		ticket.state = Ticket.State.DONE;
		int t = ticket.tier.ordinal();
		this.rejected[t][reason.ordinal()]++;
		this.queues[t].tenant(ticket.tenant).rejected++;
		this.out.rejected(ticket, reason);
	}

	private void link(Lease lease, int list) {
		lease.list = list;
		lease.prev = this.listTail[list];
		lease.next = null;
		if (lease.prev != null) {
			lease.prev.next = lease;
		}
		else {
			this.listHead[list] = lease;
		}
		this.listTail[list] = lease;
	}

	private void unlink(Lease lease) {
		int list = lease.list;
		if (lease.prev != null) {
			lease.prev.next = lease.next;
		}
		else {
			this.listHead[list] = lease.next;
		}
		if (lease.next != null) {
			lease.next.prev = lease.prev;
		}
		else {
			this.listTail[list] = lease.prev;
		}
		lease.prev = null;
		lease.next = null;
		lease.list = -1;
	}

	/**
	 * Keeps an endpoint in the heap exactly when it accepts and has a free slot; fewest
	 * leases on top.
	 */
	private void placeInHeap(EndpointSlot endpoint) {
		boolean belongs = endpoint.accepting && endpoint.used < endpoint.slots && !endpoint.owned;
		if (!belongs) {
			if (endpoint.heapIndex >= 0) {
				heapRemove(endpoint);
			}
			return;
		}
		if (endpoint.heapIndex < 0) {
			if (this.heapSize == this.heap.length) {
				this.heap = Arrays.copyOf(this.heap, this.heapSize * 2);
			}
			endpoint.heapIndex = this.heapSize;
			this.heap[this.heapSize++] = endpoint;
			siftUp(endpoint.heapIndex);
		}
		else {
			siftUp(endpoint.heapIndex);
			siftDown(endpoint.heapIndex);
		}
	}

	private void heapRemove(EndpointSlot endpoint) {
		int index = endpoint.heapIndex;
		EndpointSlot last = this.heap[--this.heapSize];
		this.heap[this.heapSize] = null;
		endpoint.heapIndex = -1;
		if (last != endpoint) {
			this.heap[index] = last;
			last.heapIndex = index;
			siftUp(index);
			siftDown(last.heapIndex);
		}
	}

	private static boolean less(EndpointSlot a, EndpointSlot b) {
		return (a.used != b.used) ? a.used < b.used : a.seq < b.seq;
	}

	private void siftUp(int index) {
		EndpointSlot item = this.heap[index];
		while (index > 0) {
			int parent = (index - 1) >>> 1;
			EndpointSlot above = this.heap[parent];
			if (!less(item, above)) {
				break;
			}
			this.heap[index] = above;
			above.heapIndex = index;
			index = parent;
		}
		this.heap[index] = item;
		item.heapIndex = index;
	}

	private void siftDown(int index) {
		EndpointSlot item = this.heap[index];
		int half = this.heapSize >>> 1;
		while (index < half) {
			int child = 2 * index + 1;
			int right = child + 1;
			if (right < this.heapSize && less(this.heap[right], this.heap[child])) {
				child = right;
			}
			if (!less(this.heap[child], item)) {
				break;
			}
			this.heap[index] = this.heap[child];
			this.heap[index].heapIndex = index;
			index = child;
		}
		this.heap[index] = item;
		item.heapIndex = index;
	}

	/**
	 * Slots in use, on accepting and draining endpoints.
	 * @return leases held
	 */
	public int used() {
		return this.used;
	}

	/**
	 * Slots of the endpoints that take new requests.
	 * @return the slots
	 */
	public int acceptingSlots() {
		return this.acceptingSlots;
	}

	/**
	 * Slots of accepting endpoints, plus those still held beyond that: on draining
	 * endpoints, or on an endpoint whose slot count dropped below its leases.
	 * @return capacity in slots
	 */
	public int capacity() {
		int excess = 0;
		for (EndpointSlot endpoint : this.endpoints.values()) {
			excess += endpoint.accepting ? Math.max(0, endpoint.used - endpoint.slots) : endpoint.used;
		}
		return this.acceptingSlots + excess;
	}

	/**
	 * Tickets waiting.
	 * @return queued tickets across tiers
	 */
	public int queued() {
		return this.queued;
	}

	/**
	 * Tickets of one tier waiting.
	 * @param tier the tier
	 * @return queued tickets
	 */
	public int queued(Tier tier) {
		return this.queues[tier.ordinal()].size;
	}

	/**
	 * Leases held by one tier.
	 * @param tier the tier
	 * @return leases, borrowed ones included
	 */
	public int inFlight(Tier tier) {
		int t = tier.ordinal();
		return this.nonBorrowed[t] + this.borrowed[t] + this.home[t] + this.guests[t];
	}

	/**
	 * Free slots on accepting endpoints.
	 * @return free slots
	 */
	public int free() {
		return sharedFree() + ownedFree(false);
	}

	private int sharedFree() {
		int free = 0;
		for (int i = 0; i < this.heapSize; i++) {
			free += this.heap[i].slots - this.heap[i].used;
		}
		return free;
	}

	/** Free slots on the owner's endpoints; for guests, within their cap. */
	private int ownedFree(boolean guest) {
		int free = 0;
		for (int i = 0; i < this.owned.size(); i++) {
			EndpointSlot endpoint = this.owned.get(i);
			if (endpoint.accepting) {
				int room = Math.max(0, endpoint.slots - endpoint.used);
				free += guest ? Math.min(room, Math.max(0, this.borrowPerEndpoint - endpoint.guests)) : room;
			}
		}
		return free;
	}

	/**
	 * How many more tickets of a tier would be dispatched at once if they arrived now, by
	 * the same rules {@link #submit} applies: the tier's own unused reserve, the free
	 * shared part, and, if it borrows, the idle reserves of other tiers not yet borrowed;
	 * at most the free slots on accepting endpoints; none while a ticket of this tier or
	 * a more urgent one waits. Batch workers take only this many items. Reads counters
	 * and the endpoint heap; allocates nothing.
	 * @param tier the tier
	 * @return tickets that would start at once
	 */
	public int room(Tier tier) {
		int t = tier.ordinal();
		for (int u = 0; u <= t; u++) {
			if (this.queues[u].size > 0) {
				return 0;
			}
		}
		int free = sharedFree();
		int own = Math.max(0, this.reserved[t] - this.nonBorrowed[t]);
		int shared = Math.max(0, this.unreserved - sharedUsed());
		boolean borrows = this.definitions[t].borrow() && this.preemptionBudget > 0;
		int borrow = borrows ? Math.max(0, idleReserveOf(t) - this.totalBorrowed) : 0;
		int room = Math.min(free, own + shared + borrow);
		if (this.owner != NONE) {
			room += (t == this.owner) ? ownedFree(false) : (borrows ? ownedFree(true) : 0);
		}
		return room;
	}

	/**
	 * Leases held on slots reserved for another tier.
	 * @return borrowed leases
	 */
	public int borrowed() {
		return this.totalBorrowed + this.totalGuests;
	}

	/**
	 * The endpoints of the tier whose reserve is whole endpoints.
	 * @return endpoint ids in the order they were first seen; empty when no tier's
	 * reserve is placed on endpoints
	 */
	public List<String> reservedEndpoints() {
		return this.owned.stream().map(EndpointSlot::id).toList();
	}

	/**
	 * A consistent picture of the pool, for the API, the dashboard, metrics and tests.
	 * @param now the time, for waits
	 * @return the snapshot
	 */
	public PoolSnapshot snapshot(long now) {
		int free = free();
		Map<Tier, PoolSnapshot.TierState> tiers = new EnumMap<>(Tier.class);
		for (Tier tier : TIERS) {
			int t = tier.ordinal();
			TierQueue queue = this.queues[t];
			long oldestWait = 0;
			Ticket first = queue.earliestDeadline();
			if (first != null) {
				oldestWait = now - first.arrivalNanos;
			}
			for (Ticket requeued : queue.requeued) {
				oldestWait = Math.max(oldestWait, now - requeued.queuedNanos);
			}
			Map<String, Long> rejections = new HashMap<>();
			for (RejectReason reason : RejectReason.values()) {
				rejections.put(reason.code(), this.rejected[t][reason.ordinal()]);
			}
			List<PoolSnapshot.TenantState> tenants = new ArrayList<>();
			queue.tenants.values()
				.stream()
				.sorted((a, b) -> a.tenant.compareTo(b.tenant))
				.forEach((q) -> tenants
					.add(new PoolSnapshot.TenantState(q.tenant, q.size + countRequeued(queue, q.tenant), q.inFlight,
							q.dispatched, q.dispatchedCost, q.rejected)));
			tiers.put(tier,
					new PoolSnapshot.TierState(queue.size, inFlight(tier), this.borrowed[t] + this.guests[t],
							(t == this.owner) ? this.ownedSlots : this.reserved[t], oldestWait, this.admitted[t],
							this.preempted[t], rejections, List.copyOf(tenants)));
		}
		return new PoolSnapshot(this.pool, this.acceptingSlots, capacity(), this.used, free, this.unreserved,
				sharedUsed(), this.queued, this.endpoints.size(), tiers);
	}

	private static int countRequeued(TierQueue queue, String tenant) {
		int count = 0;
		for (Ticket ticket : queue.requeued) {
			if (ticket.tenant.equals(tenant)) {
				count++;
			}
		}
		return count;
	}

	/**
	 * Counts active leases per endpoint and tier, without sorting or copying them.
	 * @param into where to add the counts: endpoint id to counts per tier
	 */
	public void countLeases(Map<String, Map<Tier, Integer>> into) {
		for (int list = 0; list < this.listHead.length; list++) {
			for (Lease lease = this.listHead[list]; lease != null; lease = lease.next) {
				into.computeIfAbsent(lease.endpoint.id, (k) -> new EnumMap<>(Tier.class))
					.merge(lease.ticket.tier, 1, Integer::sum);
			}
		}
	}

	/**
	 * Every active lease, oldest first, for checks and displays.
	 * @return the leases
	 */
	public List<Lease> leases() {
		List<Lease> leases = new ArrayList<>();
		for (int list = 0; list < this.listHead.length; list++) {
			for (Lease lease = this.listHead[list]; lease != null; lease = lease.next) {
				leases.add(lease);
			}
		}
		leases.sort((a, b) -> Long.compare(a.startSeq, b.startSeq));
		return leases;
	}

	/**
	 * Requests sent back to their queue because their endpoint failed before they had
	 * sent anything.
	 * @param tier the tier
	 * @return retries
	 */
	public long retried(Tier tier) {
		return this.retried[tier.ordinal()];
	}

	/**
	 * The policy's view of the heap: the endpoints with a free slot, fewest leases at
	 * index 0.
	 */
	private final class HeapCandidates implements BalancingPolicy.Candidates {

		long now;

		@Override
		public int size() {
			return PoolScheduler.this.heapSize;
		}

		@Override
		public Endpoint endpoint(int i) {
			return (PoolScheduler.this.heap[i].attachment instanceof Endpoint endpoint) ? endpoint : null;
		}

		@Override
		public int inFlight(int i) {
			return PoolScheduler.this.heap[i].used;
		}

		@Override
		public int slots(int i) {
			return PoolScheduler.this.heap[i].slots;
		}

		@Override
		public long now() {
			return this.now;
		}

	}

	/**
	 * An endpoint as the scheduler tracks it.
	 */
	public static final class EndpointSlot {

		final String id;

		final int seq;

		Object attachment;

		String node;

		boolean owned;

		int guests;

		int slots;

		int used;

		boolean accepting;

		boolean removed;

		int heapIndex = -1;

		EndpointSlot(String id, int seq) {
			this.id = id;
			this.seq = seq;
		}

		/**
		 * Endpoint id.
		 * @return id
		 */
		public String id() {
			return this.id;
		}

	}

}
