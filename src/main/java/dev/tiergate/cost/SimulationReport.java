package dev.tiergate.cost;

import java.util.List;
import java.util.Map;

import dev.tiergate.tier.Tier;

/**
 * What a simulation found. Deterministic: the same trace, settings and seed give an equal
 * report (no wall-clock figures inside).
 *
 * @param trace the trace's name
 * @param format the trace's format
 * @param requests requests replayed
 * @param spanSeconds the replayed trace's span (after time scaling)
 * @param speed the time scaling
 * @param seed the seed of the tier assignment
 * @param fleet the fleet
 * @param ttftSloMs per tier, the TTFT target in milliseconds
 * @param tiered Tiergate's scheduler with the tiers as configured
 * @param fifo the baseline without tiers: one FIFO queue, no reservation, no preemption,
 * engines first come first served
 * @param staticPartition the baseline with P0's share dedicated: reserved slots never
 * lent, no preemption
 * @param cost the monthly cost of the fleet against the hosted API
 * @param sweep the sweep's points, ordered by monthly cost (the fleet's plus the spill's)
 * @param recommendation the cheapest sweep point (fleet plus spill cap) that meets P0's
 * SLO, or {@code null} when none does (or there was no sweep)
 */
public record SimulationReport(String trace, TraceFormat format, int requests, double spanSeconds, double speed,
		long seed, FleetSpec fleet, Map<Tier, Double> ttftSloMs, Run tiered, Run fifo, Run staticPartition, Cost cost,
		List<SweepPoint> sweep, SweepPoint recommendation) {

	/**
	 * One replay of the trace.
	 *
	 * @param name {@code tiered}, {@code fifo} or {@code static}
	 * @param fits whether every model fits its slices' memory (weights per replica); when
	 * not, nothing was replayed
	 * @param endpoints endpoints simulated
	 * @param tiers per tier results
	 * @param utilizationIntervalSeconds the width of one utilization sample
	 * @param sliceUtilization per interval, the share of slices with at least one request
	 * running
	 * @param slotOccupancy per interval, the share of slots holding a request
	 * @param meanSliceUtilization over the whole replay
	 * @param gpuHours GPUs x the replay's span in hours
	 * @param schedulerPreemptions leases the scheduler preempted
	 * @param enginePreemptions sequences the engines preempted (priority or KV cache)
	 * @param spillCost US dollars the requests served by the hosted API cost over the
	 * replay (0 without spill)
	 */
	public record Run(String name, boolean fits, int endpoints, Map<Tier, TierResult> tiers,
			double utilizationIntervalSeconds, double[] sliceUtilization, double[] slotOccupancy,
			double meanSliceUtilization, double gpuHours, long schedulerPreemptions, long enginePreemptions,
			double spillCost) {

		@Override
		public boolean equals(Object other) {
			return other instanceof Run run && this.name.equals(run.name) && this.fits == run.fits
					&& this.endpoints == run.endpoints && this.tiers.equals(run.tiers)
					&& java.util.Arrays.equals(this.sliceUtilization, run.sliceUtilization)
					&& java.util.Arrays.equals(this.slotOccupancy, run.slotOccupancy)
					&& this.schedulerPreemptions == run.schedulerPreemptions
					&& this.enginePreemptions == run.enginePreemptions && this.spillCost == run.spillCost;
		}

		@Override
		public int hashCode() {
			return java.util.Objects.hash(this.name, this.tiers, java.util.Arrays.hashCode(this.sliceUtilization));
		}

	}

	/**
	 * One tier's results in a run.
	 *
	 * @param requests requests of the tier
	 * @param completed requests served in full (by the fleet, or by the hosted API when
	 * they spilled)
	 * @param rejected requests the scheduler turned away (queue full, timeout, no
	 * capacity)
	 * @param preempted requests ended by a preemption after they had streamed
	 * @param queueWaitMs time from arrival to the lease that served it
	 * @param ttftMs time from arrival to the first token
	 * @param e2eMs time from arrival to the last token
	 * @param sloAttainment the share of the tier's requests with a first token within its
	 * target (rejected ones miss it)
	 * @param throughputRps completed requests per second of the replay
	 * @param outputTokensPerSecond generated tokens of completed requests per second
	 * @param ttftCdfMs TTFT at the quantiles 0.01, 0.02, ... 1.00 (100 points) of the
	 * completed requests
	 * @param spilled of the completed requests, those the hosted API served
	 */
	public record TierResult(int requests, int completed, int rejected, int preempted, Percentiles queueWaitMs,
			Percentiles ttftMs, Percentiles e2eMs, double sloAttainment, double throughputRps,
			double outputTokensPerSecond, double[] ttftCdfMs, int spilled) {

		@Override
		public boolean equals(Object other) {
			return other instanceof TierResult t && this.requests == t.requests && this.completed == t.completed
					&& this.rejected == t.rejected && this.preempted == t.preempted && this.spilled == t.spilled
					&& this.queueWaitMs.equals(t.queueWaitMs) && this.ttftMs.equals(t.ttftMs)
					&& this.e2eMs.equals(t.e2eMs) && this.sloAttainment == t.sloAttainment
					&& java.util.Arrays.equals(this.ttftCdfMs, t.ttftCdfMs);
		}

		@Override
		public int hashCode() {
			return java.util.Objects.hash(this.requests, this.completed, this.ttftMs);
		}

	}

	/**
	 * Percentiles of a latency, in milliseconds (nearest rank); zeros when there was no
	 * sample.
	 *
	 * @param p50 median
	 * @param p95 95th percentile
	 * @param p99 99th percentile
	 * @param max the largest
	 * @param mean the mean
	 */
	public record Percentiles(double p50, double p95, double p99, double max, double mean) {
	}

	/**
	 * Monthly cost (730 hours) at the replayed request rate.
	 *
	 * @param monthlyRequests requests a month at the replayed rate
	 * @param gpuHourly the fleet's GPU price per hour
	 * @param selfHostedMonthly GPUs x price x 730 h + overhead
	 * @param hostedMonthly the same requests' tokens at the hosted API's prices
	 * @param hostedPerRequest the mean hosted cost of one request
	 * @param savingsMonthly hosted minus self-hosted (negative: the API is cheaper)
	 * @param breakEvenMonthlyRequests the monthly volume at which this fleet costs what
	 * the API would: self-hosted cost / hosted cost per request
	 * @param curve self-hosted and hosted cost against monthly volume, the GPUs scaled in
	 * proportion to the volume (whole GPUs, at least one)
	 */
	public record Cost(double monthlyRequests, double gpuHourly, double selfHostedMonthly, double hostedMonthly,
			double hostedPerRequest, double savingsMonthly, double breakEvenMonthlyRequests, List<VolumePoint> curve) {
	}

	/**
	 * Cost at one monthly volume.
	 *
	 * @param monthlyRequests requests a month
	 * @param gpus GPUs needed
	 * @param selfHostedMonthly their monthly cost with the overhead
	 * @param hostedMonthly the hosted API's monthly cost
	 */
	public record VolumePoint(double monthlyRequests, int gpus, double selfHostedMonthly, double hostedMonthly) {
	}

	/**
	 * One setting the sweep tried.
	 *
	 * @param replicas slices per GPU
	 * @param p0Share P0's reserved share
	 * @param gpus GPUs
	 * @param fits whether the model fits a slice
	 * @param p0TtftP99Ms P0's TTFT P99
	 * @param p0SloAttainment P0's SLO attainment
	 * @param rejected requests turned away, all tiers
	 * @param meanSliceUtilization the mean slice utilization
	 * @param selfHostedMonthly the fleet's monthly cost
	 * @param meetsSlo fits, and P0's TTFT P99 is under its target with no P0 request
	 * turned away
	 * @param placement where P0's reserve lives ({@code slots} or {@code endpoints})
	 * @param spillCap the monthly spill cap tried, US dollars; {@code -1} without spill
	 * @param spillMonthly what spill cost at the replayed rate for a month (at most the
	 * cap)
	 * @param totalMonthly the fleet's monthly cost plus the spill's: what the sweep
	 * orders by
	 */
	public record SweepPoint(int replicas, double p0Share, int gpus, boolean fits, double p0TtftP99Ms,
			double p0SloAttainment, int rejected, double meanSliceUtilization, double selfHostedMonthly,
			boolean meetsSlo, dev.tiergate.tier.ReservePlacement placement, double spillCap, double spillMonthly,
			double totalMonthly) {
	}

}
