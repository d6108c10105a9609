package dev.tiergate.cost;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Replays a trace faster or slower: arrivals are divided by {@code speed}, so 2 replays
 * twice as fast (twice the request rate), 0.5 half as fast. Token counts stay as they
 * are.
 *
 * @param speed how many times faster than recorded, positive
 */
public record TimeScaling(double speed) {

	/** The month the monthly figures use: 730 hours (8,760 / 12). */
	public static final Duration MONTH = Duration.ofHours(730);

	/**
	 * Validates the scaling.
	 */
	public TimeScaling {
		if (!(speed > 0) || Double.isInfinite(speed)) {
			throw new IllegalArgumentException("speed must be positive and finite, was " + speed);
		}
	}

	/**
	 * The speed at which the trace's request rate, kept up for a month, makes
	 * {@code requestsPerMonth} requests.
	 * @param trace the trace
	 * @param requestsPerMonth the target monthly volume, positive
	 * @return the scaling
	 */
	public static TimeScaling toMonthlyVolume(Trace trace, double requestsPerMonth) {
		if (!(requestsPerMonth > 0)) {
			throw new IllegalArgumentException("requestsPerMonth must be positive, was " + requestsPerMonth);
		}
		return new TimeScaling(requestsPerMonth / monthlyVolume(trace));
	}

	/**
	 * The requests a month at the trace's request rate.
	 * @param trace the trace
	 * @return requests per month
	 */
	public static double monthlyVolume(Trace trace) {
		return trace.requests().size() * ((double) MONTH.toNanos() / trace.span().toNanos());
	}

	/**
	 * The trace replayed at this speed.
	 * @param trace the trace
	 * @return the rescaled trace
	 */
	public Trace apply(Trace trace) {
		if (this.speed == 1.0) {
			return trace;
		}
		List<TraceRequest> scaled = new ArrayList<>(trace.requests().size());
		for (TraceRequest request : trace.requests()) {
			scaled.add(request.at(Math.round(request.offsetNanos() / this.speed)));
		}
		return trace.withRequests(scaled);
	}

}
