package dev.tiergate.dispatch;

/**
 * One tenant's waiting tickets within one tier: a FIFO (intrusive list) with its
 * deficit-round-robin state.
 */
final class TenantQueue {

	final String tenant;

	int weight = 1;

	Ticket head;

	Ticket tail;

	int size;

	long deficit;

	boolean visited;

	boolean active;

	int inFlight;

	long dispatched;

	long dispatchedCost;

	long rejected;

	TenantQueue(String tenant) {
		this.tenant = tenant;
	}

	void add(Ticket ticket) {
		ticket.tenantQueue = this;
		ticket.prev = this.tail;
		ticket.next = null;
		if (this.tail != null) {
			this.tail.next = ticket;
		}
		else {
			this.head = ticket;
		}
		this.tail = ticket;
		this.size++;
	}

	void remove(Ticket ticket) {
		if (ticket.prev != null) {
			ticket.prev.next = ticket.next;
		}
		else {
			this.head = ticket.next;
		}
		if (ticket.next != null) {
			ticket.next.prev = ticket.prev;
		}
		else {
			this.tail = ticket.prev;
		}
		ticket.prev = null;
		ticket.next = null;
		this.size--;
	}

}
