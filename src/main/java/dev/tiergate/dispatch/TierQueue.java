package dev.tiergate.dispatch;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * The waiting tickets of one tier in one pool: preempted tickets first (they go back to
 * the head of their tier), then per-tenant queues served by deficit round robin on cost,
 * weighted by tenant weight. A second intrusive list orders every waiting ticket by
 * deadline so expiry is cheap.
 */
final class TierQueue {

	static final long QUANTUM = 4096;

	final Map<String, TenantQueue> tenants = new HashMap<>();

	final ArrayDeque<Ticket> requeued = new ArrayDeque<>();

	private final ArrayDeque<TenantQueue> ring = new ArrayDeque<>();

	private Ticket deadlineHead;

	private Ticket deadlineTail;

	int size;

	TenantQueue tenant(String tenant) {
		TenantQueue queue = this.tenants.get(tenant);
		if (queue == null) {
			queue = new TenantQueue(tenant);
			this.tenants.put(tenant, queue);
		}
		return queue;
	}

	void add(Ticket ticket) {
		TenantQueue queue = tenant(ticket.tenant);
		queue.weight = ticket.weight;
		queue.add(ticket);
		if (!queue.active) {
			queue.active = true;
			queue.visited = false;
			this.ring.addLast(queue);
		}
		ticket.requeued = false;
		linkDeadline(ticket);
		this.size++;
	}

	void addRequeued(Ticket ticket) {
		tenant(ticket.tenant);
		ticket.requeued = true;
		this.requeued.addFirst(ticket);
		linkDeadline(ticket);
		this.size++;
	}

	/**
	 * The ticket that {@link #poll()} would return next, without changing round-robin
	 * state, for checks that depend on the ticket (only requeued tickets can differ in
	 * what they may do).
	 */
	Ticket peekRequeued() {
		return this.requeued.peekFirst();
	}

	Ticket poll() {
		Ticket ticket = this.requeued.pollFirst();
		if (ticket != null) {
			unlinkDeadline(ticket);
			this.size--;
			return ticket;
		}
		if (this.ring.isEmpty()) {
			return null;
		}
		// Deficit round robin visits the ring in turns, adding a quantum to each tenant
		// it
		// visits, until one tenant's head fits its deficit. Rather than loop once per
		// quantum (a request's cost / 4,096 turns under the pool lock), find for each
		// tenant how many full turns it would need, take the smallest (the first in ring
		// order on ties), and apply those turns at once: one pass over the ring.
		long fewest = Long.MAX_VALUE;
		int winner = -1;
		int index = 0;
		for (TenantQueue queue : this.ring) {
			long turns = turnsNeeded(queue);
			if (turns < fewest) {
				fewest = turns;
				winner = index;
				if (turns == 0) {
					break;
				}
			}
			index++;
		}
		// Tenants after the winner need updating only when whole turns passed.
		int last = (fewest == 0) ? winner : Integer.MAX_VALUE;
		index = 0;
		for (TenantQueue queue : this.ring) {
			if (index > last) {
				break;
			}
			long quantum = QUANTUM * queue.weight;
			// Tenants before the winner also get their quantum in the winning turn; the
			// winner gets it unless it already had this turn's quantum.
			long grants = (index <= winner) ? fewest + 1 : fewest;
			if (queue.visited) {
				grants--;
			}
			queue.deficit = saturatedAdd(queue.deficit, saturatedMultiply(grants, quantum));
			queue.visited = false;
			index++;
		}
		for (int i = 0; i < winner; i++) {
			this.ring.addLast(this.ring.pollFirst());
		}
		TenantQueue queue = this.ring.peekFirst();
		queue.visited = true;
		Ticket head = queue.head;
		queue.deficit -= head.cost;
		queue.remove(head);
		if (queue.size == 0) {
			deactivate(queue);
			this.ring.pollFirst();
		}
		unlinkDeadline(head);
		this.size--;
		return head;
	}

	/**
	 * Full turns of the ring a tenant sits out before its head fits its deficit: 0 when
	 * it fits at its next visit.
	 */
	private static long turnsNeeded(TenantQueue queue) {
		long quantum = QUANTUM * queue.weight;
		long credit = queue.visited ? queue.deficit : saturatedAdd(queue.deficit, quantum);
		long missing = queue.head.cost - credit;
		if (missing <= 0) {
			return 0;
		}
		return (missing + quantum - 1) / quantum;
	}

	private static long saturatedAdd(long a, long b) {
		long sum = a + b;
		return (((a ^ sum) & (b ^ sum)) < 0) ? ((a < 0) ? Long.MIN_VALUE : Long.MAX_VALUE) : sum;
	}

	private static long saturatedMultiply(long a, long b) {
		long high = Math.multiplyHigh(a, b);
		long low = a * b;
		return ((high == 0 && low >= 0) || (high == -1 && low < 0)) ? low
				: (((a ^ b) < 0) ? Long.MIN_VALUE : Long.MAX_VALUE);
	}

	private static void deactivate(TenantQueue queue) {
		queue.active = false;
		queue.visited = false;
		queue.deficit = 0;
	}

	void remove(Ticket ticket) {
		if (ticket.requeued) {
			this.requeued.remove(ticket);
		}
		else {
			TenantQueue queue = ticket.tenantQueue;
			queue.remove(ticket);
			if (queue.size == 0 && queue.active) {
				deactivate(queue);
				this.ring.remove(queue);
			}
		}
		unlinkDeadline(ticket);
		this.size--;
	}

	/** The waiting ticket with the earliest deadline. */
	Ticket earliestDeadline() {
		return this.deadlineHead;
	}

	/** The waiting ticket that arrived last. */
	Ticket newest() {
		return this.deadlineTail;
	}

	private void linkDeadline(Ticket ticket) {
		// Deadlines are arrival + the tier's wait, so arrival order is deadline order;
		// walk back for the rare
		// ticket whose deadline is earlier than the tail's (the tier's wait was
		// shortened).
		Ticket after = this.deadlineTail;
		while (after != null && after.deadlineNanos > ticket.deadlineNanos) {
			after = after.deadlinePrev;
		}
		ticket.deadlinePrev = after;
		ticket.deadlineNext = (after != null) ? after.deadlineNext : this.deadlineHead;
		if (ticket.deadlineNext != null) {
			ticket.deadlineNext.deadlinePrev = ticket;
		}
		else {
			this.deadlineTail = ticket;
		}
		if (after != null) {
			after.deadlineNext = ticket;
		}
		else {
			this.deadlineHead = ticket;
		}
	}

	private void unlinkDeadline(Ticket ticket) {
		if (ticket.deadlinePrev != null) {
			ticket.deadlinePrev.deadlineNext = ticket.deadlineNext;
		}
		else {
			this.deadlineHead = ticket.deadlineNext;
		}
		if (ticket.deadlineNext != null) {
			ticket.deadlineNext.deadlinePrev = ticket.deadlinePrev;
		}
		else {
			this.deadlineTail = ticket.deadlinePrev;
		}
		ticket.deadlinePrev = null;
		ticket.deadlineNext = null;
	}

}
