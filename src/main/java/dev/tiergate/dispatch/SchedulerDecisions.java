package dev.tiergate.dispatch;

/**
 * Receives the scheduler's decisions, synchronously, while it handles an event.
 * Implementations record or act quickly; they must not call back into the scheduler.
 */
public interface SchedulerDecisions {

	/**
	 * Send the ticket's request to the lease's endpoint.
	 * @param ticket the ticket
	 * @param lease its new lease
	 */
	void dispatched(Ticket ticket, Lease lease);

	/**
	 * Stop the lease's request: its slot has gone to a more urgent one.
	 * @param lease the lease taken away
	 * @param requeued {@code true} when the ticket waits again at the head of its tier
	 * (it had sent nothing); {@code false} when it has ended and its client must be told
	 */
	void preempted(Lease lease, boolean requeued);

	/**
	 * The ticket will not be served.
	 * @param ticket the ticket
	 * @param reason why
	 */
	void rejected(Ticket ticket, RejectReason reason);

}
