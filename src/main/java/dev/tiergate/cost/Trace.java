package dev.tiergate.cost;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * A request trace: requests in arrival order.
 *
 * @param name where it came from (a file name)
 * @param format the format it was read from
 * @param start when its first request arrived, or {@code null} when the format has only
 * relative times
 * @param requests the requests, ordered by arrival, at least one
 */
public record Trace(String name, TraceFormat format, Instant start, List<TraceRequest> requests) {

	/**
	 * Validates the trace.
	 */
	public Trace {
		requests = List.copyOf(requests);
		if (requests.isEmpty()) {
			throw new InvalidTraceException(name, 0, "the trace has no request");
		}
	}

	/**
	 * From the first arrival to the last.
	 * @return the span; at least one second, so that rates stay finite
	 */
	public Duration span() {
		long last = this.requests.get(this.requests.size() - 1).offsetNanos();
		return Duration.ofNanos(Math.max(last, 1_000_000_000L));
	}

	/**
	 * The same trace with other requests.
	 * @param requests the requests, ordered by arrival
	 * @return the trace
	 */
	public Trace withRequests(List<TraceRequest> requests) {
		return new Trace(this.name, this.format, this.start, requests);
	}

}
