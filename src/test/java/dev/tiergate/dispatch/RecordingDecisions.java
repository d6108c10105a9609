package dev.tiergate.dispatch;

import java.util.ArrayList;
import java.util.List;

/**
 * Records a scheduler's decisions in order, for tests.
 */
class RecordingDecisions implements SchedulerDecisions {

	record Decision(String kind, Ticket ticket, Lease lease, boolean requeued, RejectReason reason) {
	}

	final List<Decision> decisions = new ArrayList<>();

	@Override
	public void dispatched(Ticket ticket, Lease lease) {
		this.decisions.add(new Decision("dispatched", ticket, lease, false, null));
	}

	@Override
	public void preempted(Lease lease, boolean requeued) {
		this.decisions.add(new Decision("preempted", lease.ticket(), lease, requeued, null));
	}

	@Override
	public void rejected(Ticket ticket, RejectReason reason) {
		this.decisions.add(new Decision("rejected", ticket, null, false, reason));
	}

	List<Decision> take() {
		List<Decision> taken = List.copyOf(this.decisions);
		this.decisions.clear();
		return taken;
	}

}
