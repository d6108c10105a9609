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
		while (true) {
			TenantQueue queue = this.ring.peekFirst();
			if (queue == null) {
				return null;
			}
			if (!queue.visited) {
				queue.deficit += QUANTUM * queue.weight;
				queue.visited = true;
			}
			Ticket head = queue.head;
			if (head.cost <= queue.deficit) {
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
			queue.visited = false;
			this.ring.addLast(this.ring.pollFirst());
		}
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
