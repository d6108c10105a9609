package dev.tiergate.dispatch;

import java.time.Duration;

import dev.tiergate.routing.EndpointLease;

/**
 * What the dispatcher decided for one request.
 */
public sealed interface DispatchOutcome {

	/**
	 * The request holds a slot.
	 * @param lease the slot, to be closed exactly when the request ends
	 * @param queued how long it waited for the slot
	 */
	record Dispatched(EndpointLease lease, Duration queued) implements DispatchOutcome {
	}

	/**
	 * The request will not be served.
	 * @param reason why
	 * @param message what to tell the caller
	 * @param retryAfter when trying again makes sense
	 */
	record Rejected(Reason reason, String message, Duration retryAfter) implements DispatchOutcome {
	}

	/**
	 * Why a request was rejected.
	 */
	enum Reason {

		/** No endpoint serves the model. */
		UNKNOWN_MODEL,

		/** Endpoints exist, but none accepts requests (none Ready, all draining). */
		NO_CAPACITY,

		/** It waited longer than its tier allows. */
		QUEUE_TIMEOUT

	}

}
