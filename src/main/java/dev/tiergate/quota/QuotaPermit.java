package dev.tiergate.quota;

import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import dev.tiergate.tier.Tier;

/**
 * One admitted request's hold on its tenant's quota: a token reservation and a
 * concurrency lease, renewed while it runs. End it exactly once: {@link #complete} with
 * the real usage, {@link #completeUnreported} when the answer carried none, or
 * {@link #close} (refund) when the request ended before it was served. Further calls do
 * nothing.
 */
public final class QuotaPermit implements AutoCloseable {

	private final QuotaService service;

	private final Tenant tenant;

	private final Tier tier;

	private final String model;

	private final String requestId;

	private final long promptEstimate;

	private final long reserved;

	private final boolean local;

	private final boolean batch;

	private final Map<String, String> headers;

	private final String month;

	private final AtomicBoolean ended = new AtomicBoolean();

	private volatile boolean hosted;

	QuotaPermit(QuotaService service, Tenant tenant, Tier tier, String model, String requestId, long promptEstimate,
			long reserved, boolean local, Map<String, String> headers) {
		this(service, tenant, tier, model, requestId, promptEstimate, reserved, local, false, headers, null);
	}

	QuotaPermit(QuotaService service, Tenant tenant, Tier tier, String model, String requestId, long promptEstimate,
			long reserved, boolean local, boolean batch, Map<String, String> headers, String month) {
		this.month = month;
		this.batch = batch;
		this.service = service;
		this.tenant = tenant;
		this.tier = tier;
		this.model = model;
		this.requestId = requestId;
		this.promptEstimate = promptEstimate;
		this.reserved = reserved;
		this.local = local;
		this.headers = Map.copyOf(headers);
	}

	/**
	 * The rate-limit headers every answer carries ({@code x-ratelimit-limit-requests},
	 * ...).
	 * @return header names and values
	 */
	public Map<String, String> headers() {
		return this.headers;
	}

	/**
	 * Whether this request was admitted by the local limiter because Redis was
	 * unavailable.
	 * @return {@code true} in fallback mode
	 */
	public boolean local() {
		return this.local;
	}

	/**
	 * Tokens reserved at admission (prompt estimate + completion allowance).
	 * @return the reservation
	 */
	public long reserved() {
		return this.reserved;
	}

	/**
	 * Whether this permit is a batch item's, whose lease does not count against the
	 * tenant's concurrency limit.
	 * @return {@code true} for batch items
	 */
	boolean batch() {
		return this.batch;
	}

	/**
	 * The month (UTC, Redis's clock) the reservation was charged to; for an admission
	 * recorded after the answer (a tenant without limits), the replica's month, used only
	 * if Redis has lost the request's in-flight record when it ends.
	 * @return {@code YYYY-MM}, or {@code null} when unknown
	 */
	String month() {
		return this.month;
	}

	Tenant tenant() {
		return this.tenant;
	}

	Tier tier() {
		return this.tier;
	}

	String model() {
		return this.model;
	}

	String requestId() {
		return this.requestId;
	}

	/**
	 * Marks the request as served by a hosted upstream (it spilled), so that its usage
	 * record counts it as hosted. Call before completing the permit.
	 */
	public void servedByHosted() {
		this.hosted = true;
	}

	boolean hosted() {
		return this.hosted;
	}

	/**
	 * Ends the request with the usage the endpoint reported: refunds or charges the
	 * difference to the reservation and records the usage.
	 * @param promptTokens real prompt tokens
	 * @param completionTokens real completion tokens
	 */
	public void complete(long promptTokens, long completionTokens) {
		if (this.ended.compareAndSet(false, true)) {
			this.service.end(this, Math.max(0, promptTokens), Math.max(0, completionTokens), true);
		}
	}

	/**
	 * Ends a served request whose answer reported no usage (e.g. a stream without
	 * {@code include_usage}): the reservation stays charged and is recorded as its usage.
	 */
	public void completeUnreported() {
		if (this.ended.compareAndSet(false, true)) {
			this.service.end(this, this.promptEstimate, this.reserved - this.promptEstimate, true);
		}
	}

	/**
	 * Ends a request that was not served (no slot, upstream unreachable, rejected): its
	 * tokens are refunded; it still counts as a request in the sliding minute.
	 */
	@Override
	public void close() {
		if (this.ended.compareAndSet(false, true)) {
			this.service.end(this, 0, 0, false);
		}
	}

}
