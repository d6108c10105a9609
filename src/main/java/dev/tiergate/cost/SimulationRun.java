package dev.tiergate.cost;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.tiergate.cost.SimulationReport.Percentiles;
import dev.tiergate.cost.SimulationReport.TierResult;
import dev.tiergate.dispatch.Lease;
import dev.tiergate.dispatch.PoolScheduler;
import dev.tiergate.dispatch.RejectReason;
import dev.tiergate.dispatch.SchedulerDecisions;
import dev.tiergate.dispatch.Ticket;
import dev.tiergate.tier.Tier;
import dev.tiergate.tier.TierDefinition;

/**
 * One replay of a trace through the real {@link PoolScheduler} (one per model) on a
 * virtual clock, with an {@link InferenceEngine} standing in for every endpoint. A
 * discrete-event loop: the next event is the earlier of the next arrival and the earliest
 * engine event; the scheduler's decisions act on the engines at once (dispatch submits to
 * the lease's engine, preemption aborts there), and an engine's finished sequence
 * finishes its lease. Queue timeouts are checked at every event.
 * <p>
 * With spill ({@link SpillOption}, tiered runs only), a request of a tier that may spill
 * is served by the hosted API when it has waited its {@code spillAfter} for its first
 * slot, or was turned away before, as long as the spend stays under the cap (the monthly
 * cap scaled to the trace's span); the hosted API answers its first token
 * {@code hostedTtft} later and the rest at {@code hostedTokenTime} per token.
 */
final class SimulationRun implements SchedulerDecisions, InferenceEngine.Listener {

	private static final Tier[] TIERS = Tier.values();

	private static final int MAX_QUEUED_PER_POOL = 1_000_000;

	private final String name;

	private final Trace trace;

	private final SimulationSettings settings;

	private final Mode mode;

	private final Map<String, PoolScheduler> pools = new HashMap<>();

	private final List<EndpointSim> endpoints = new ArrayList<>();

	private final List<PoolScheduler> poolList = new ArrayList<>();

	private final List<EndpointSim> touched = new ArrayList<>();

	private int busyEndpoints;

	private int runningSequences;

	private final List<Request> finishedQueue = new ArrayList<>();

	private final Request[] requests;

	private long now;

	private long schedulerPreemptions;

	private final boolean fits;

	private final double interval;

	private double[] busySliceNanos;

	private double[] busySlotNanos;

	private int totalSlots;

	private long[] samples = new long[0];

	private int nextSample;

	private java.util.function.Consumer<SimulationRun> sampler;

	private double busySlotNanosTotal;

	private final long[] finishedTokens = new long[TIERS.length];

	/** Spill in this run, or {@code null}. */
	private final SpillOption spill;

	/** The spend allowed over the trace's span: the monthly cap, pro rata. */
	private final double spillBudget;

	private double spillSpent;

	private int spillRefused;

	/** Requests waiting to spill, per tier, in order of their spill time. */
	private final java.util.ArrayDeque<Request>[] spillTimers;

	/**
	 * How the scheduler is set up.
	 */
	enum Mode {

		/** Tiergate's tiers as configured. */
		TIERED,

		/** One FIFO queue, no reservation, no preemption, FCFS engines. */
		FIFO,

		/** P0's share dedicated: never lent, no preemption. */
		STATIC

	}

	SimulationRun(String name, Trace trace, SimulationSettings settings, Mode mode) {
		this(name, trace, settings, mode, (settings.spill() != null) ? settings.spill().largestCap() : -1);
	}

	/**
	 * A run with a monthly spill cap of its own.
	 * @param spillCap US dollars a month; negative for no spill
	 */
	@SuppressWarnings("unchecked")
	SimulationRun(String name, Trace trace, SimulationSettings settings, Mode mode, double spillCap) {
		this.spill = (mode == Mode.TIERED && spillCap >= 0) ? settings.spill() : null;
		this.spillBudget = (this.spill != null)
				? spillCap * trace.span().toNanos() / (double) TimeScaling.MONTH.toNanos() : 0;
		this.spillTimers = new java.util.ArrayDeque[TIERS.length];
		for (int t = 0; t < TIERS.length; t++) {
			this.spillTimers[t] = new java.util.ArrayDeque<>();
		}
		this.name = name;
		this.trace = trace;
		this.settings = settings;
		this.mode = mode;
		this.requests = new Request[trace.requests().size()];
		double spanNanos = Math.max(1, trace.requests().get(trace.requests().size() - 1).offsetNanos());
		// 60 samples over the span, at least one second each
		this.interval = Math.max(1e9, Math.ceil(spanNanos / 60 / 1e9) * 1e9);
		int buckets = (int) Math.ceil(spanNanos / this.interval) + 1;
		this.busySliceNanos = new double[buckets];
		this.busySlotNanos = new double[buckets];
		FleetSpec fleet = settings.fleet();
		GpuProfile gpu = Catalog.gpu(fleet.gpu());
		SliceShare slice = fleet.slice();
		Map<Tier, TierDefinition> tiers = definitions(settings.tiers(), mode);
		boolean allFit = true;
		InferenceEngine.Policy policy = (mode == Mode.FIFO) ? InferenceEngine.Policy.FCFS : settings.enginePolicy();
		for (FleetSpec.Deployment deployment : fleet.models()) {
			ModelProfile model = Catalog.model(deployment.model());
			long kv = Catalog.sliceKvCapacityTokens(gpu, model, slice);
			if (kv < deployment.slots()) {
				allFit = false;
				continue;
			}
			GpuServiceTimeModel serviceTime = new GpuServiceTimeModel(gpu, model, slice);
			PoolScheduler pool = new PoolScheduler(deployment.model(), tiers,
					(mode == Mode.TIERED) ? settings.preemptionBudget() : 0, MAX_QUEUED_PER_POOL, this);
			this.pools.put(deployment.model(), pool);
			this.poolList.add(pool);
			for (int i = 0; i < fleet.endpoints(deployment); i++) {
				EndpointSim endpoint = new EndpointSim(this.endpoints.size(),
						new InferenceEngine(serviceTime, deployment.slots(), kv, policy, this));
				this.endpoints.add(endpoint);
				this.totalSlots += deployment.slots();
				// The GPU stands for the node: a tier's own endpoints are spread over
				// GPUs.
				pool.upsertEndpoint(deployment.model() + "-" + i, deployment.slots(), true,
						"gpu-" + (this.endpoints.size() - 1) / fleet.replicas(), endpoint, 0);
			}
		}
		this.fits = allFit;
	}

	private static Map<Tier, TierDefinition> definitions(Map<Tier, TierDefinition> configured, Mode mode) {
		if (mode == Mode.TIERED) {
			return configured;
		}
		Map<Tier, TierDefinition> result = new EnumMap<>(Tier.class);
		for (Tier tier : TIERS) {
			TierDefinition d = configured.get(tier);
			if (mode == Mode.FIFO) {
				TierDefinition last = configured.get(TIERS[TIERS.length - 1]);
				result.put(tier,
						new TierDefinition(0, 10_000_000, last.maxQueueWait(), Set.of(), false, d.priorityClass()));
			}
			else {
				result.put(tier, new TierDefinition(d.reservedShare(), d.maxQueueDepth(), d.maxQueueWait(), Set.of(),
						false, d.priorityClass(), d.reservePlacement(), d.borrowPerEndpoint()));
			}
		}
		return result;
	}

	SimulationReport.Run run() {
		if (!this.fits) {
			return new SimulationReport.Run(this.name, false, this.endpoints.size(), Map.of(), this.interval / 1e9,
					new double[0], new double[0], 0, gpuHours(), 0, 0, 0);
		}
		List<TraceRequest> trace = this.trace.requests();
		int next = 0;
		long[] nextEvent = new long[this.endpoints.size()];
		Arrays.fill(nextEvent, Long.MAX_VALUE);
		long horizon = (this.samples.length > 0) ? this.samples[this.samples.length - 1] : Long.MAX_VALUE;
		while (true) {
			long arrival = (next < trace.size()) ? trace.get(next).offsetNanos() : Long.MAX_VALUE;
			int engineIndex = -1;
			long engineTime = Long.MAX_VALUE;
			for (int i = 0; i < nextEvent.length; i++) {
				if (nextEvent[i] < engineTime) {
					engineTime = nextEvent[i];
					engineIndex = i;
				}
			}
			long sample = (this.nextSample < this.samples.length) ? this.samples[this.nextSample] : Long.MAX_VALUE;
			long spillTime = nextSpillTime();
			long t = Math.min(Math.min(Math.min(arrival, engineTime), sample), spillTime);
			if (t == Long.MAX_VALUE || t > horizon) {
				break;
			}
			accumulate(t);
			this.now = t;
			boolean sampling = sample < arrival && sample < engineTime && sample <= spillTime;
			if (spillTime == t && !sampling) {
				spillDue(t);
			}
			else if (sampling) {
				// Every engine brought to the sample's time, so that tokens are exact.
				for (EndpointSim endpoint : this.endpoints) {
					endpoint.engine.advanceTo(t);
					touch(endpoint);
				}
			}
			else if (engineTime <= arrival) {
				EndpointSim endpoint = this.endpoints.get(engineIndex);
				endpoint.engine.advanceTo(t);
				touch(endpoint);
			}
			else {
				TraceRequest traced = trace.get(next);
				Request request = new Request(next, traced);
				this.requests[next] = request;
				next++;
				PoolScheduler pool = this.pools.get(poolOf(traced));
				Tier tier = (this.mode == Mode.FIFO) ? Tier.P1 : traced.tier();
				Ticket ticket = new Ticket((traced.tenant() != null) ? traced.tenant() : "trace", tier,
						traced.promptTokens() + traced.outputTokens(), 1);
				ticket.attach(request);
				request.ticket = ticket;
				request.pool = pool;
				pool.submit(ticket, t);
				Duration after = (this.spill != null) ? this.spill.spillAfter().get(tier) : null;
				if (after != null && ticket.state() == Ticket.State.QUEUED) {
					if (after.isZero()) {
						trySpill(request);
					}
					else {
						request.spillAt = t + after.toNanos();
						this.spillTimers[tier.ordinal()].add(request);
					}
				}
			}
			drainFinished();
			for (int p = 0; p < this.poolList.size(); p++) {
				PoolScheduler pool = this.poolList.get(p);
				if (pool.queued() > 0) {
					pool.tick(t);
				}
			}
			drainFinished();
			for (int i = 0; i < this.touched.size(); i++) {
				EndpointSim endpoint = this.touched.get(i);
				nextEvent[endpoint.index] = endpoint.engine.nextEventTime();
				endpoint.dirty = false;
				int running = endpoint.engine.running();
				this.runningSequences += running - endpoint.running;
				this.busyEndpoints += ((running > 0) ? 1 : 0) - ((endpoint.running > 0) ? 1 : 0);
				endpoint.running = running;
			}
			this.touched.clear();
			if (sampling) {
				this.nextSample++;
				this.sampler.accept(this);
			}
		}
		return result();
	}

	private void touch(EndpointSim endpoint) {
		if (!endpoint.dirty) {
			endpoint.dirty = true;
			this.touched.add(endpoint);
		}
	}

	private String poolOf(TraceRequest request) {
		if (request.model() != null && this.pools.containsKey(request.model())) {
			return request.model();
		}
		return this.settings.fleet().models().get(0).model();
	}

	private void drainFinished() {
		while (!this.finishedQueue.isEmpty()) {
			Request request = this.finishedQueue.remove(this.finishedQueue.size() - 1);
			Lease lease = request.lease;
			request.lease = null;
			request.sequence = null;
			request.pool.finish(lease, this.now);
		}
	}

	private void accumulate(long t) {
		if (t <= this.now) {
			return;
		}
		int busy = this.busyEndpoints;
		int running = this.runningSequences;
		if (busy == 0) {
			return;
		}
		long from = this.now;
		while (from < t) {
			int bucket = (int) (from / this.interval);
			long end = Math.min(t, (long) ((bucket + 1) * this.interval));
			if (bucket >= this.busySliceNanos.length) {
				int length = Math.max(bucket + 1, this.busySliceNanos.length * 2);
				this.busySliceNanos = Arrays.copyOf(this.busySliceNanos, length);
				this.busySlotNanos = Arrays.copyOf(this.busySlotNanos, length);
			}
			this.busySliceNanos[bucket] += (double) busy * (end - from);
			this.busySlotNanos[bucket] += (double) running * (end - from);
			this.busySlotNanosTotal += (double) running * (end - from);
			from = end;
		}
	}

	@Override
	public void dispatched(Ticket ticket, Lease lease) {
		Request request = (Request) ticket.attachment();
		EndpointSim endpoint = (EndpointSim) lease.endpointAttachment();
		request.lease = lease;
		request.grantedAt = this.now;
		int priority = (this.mode == Mode.FIFO) ? 0 : ticket.tier().enginePriority();
		TraceRequest traced = request.traced;
		request.sequence = endpoint.engine.submit(traced.promptTokens(), traced.outputTokens(), priority, request,
				this.now);
		touch(endpoint);
	}

	@Override
	public void preempted(Lease lease, boolean requeued) {
		this.schedulerPreemptions++;
		Request request = (Request) lease.ticket().attachment();
		EndpointSim endpoint = (EndpointSim) lease.endpointAttachment();
		InferenceEngine.Sequence sequence = request.sequence;
		request.lease = null;
		request.sequence = null;
		if (sequence != null) {
			endpoint.engine.abort(sequence, this.now);
			touch(endpoint);
		}
		if (!requeued) {
			request.outcome = Outcome.PREEMPTED;
		}
	}

	@Override
	public void rejected(Ticket ticket, RejectReason reason) {
		Request request = (Request) ticket.attachment();
		request.outcome = Outcome.REJECTED;
		// Turned away before it could spill: the hosted API is the last chance.
		if (this.spill != null && request.grantedAt < 0 && this.spill.spillAfter().containsKey(ticket.tier())) {
			spillNow(request);
		}
	}

	private long nextSpillTime() {
		long next = Long.MAX_VALUE;
		if (this.spill == null) {
			return next;
		}
		for (java.util.ArrayDeque<Request> timers : this.spillTimers) {
			Request first = timers.peekFirst();
			if (first != null && first.spillAt < next) {
				next = first.spillAt;
			}
		}
		return next;
	}

	/** Spills the requests whose wait ran out at {@code t} and that still wait. */
	private void spillDue(long t) {
		for (java.util.ArrayDeque<Request> timers : this.spillTimers) {
			while (!timers.isEmpty() && timers.peekFirst().spillAt <= t) {
				Request request = timers.pollFirst();
				// Only the first wait spills: a request that has run stays on the fleet.
				if (request.grantedAt < 0 && request.ticket.state() == Ticket.State.QUEUED) {
					trySpill(request);
				}
			}
		}
	}

	/** Takes a waiting request out of its queue to the hosted API, if the cap allows. */
	private void trySpill(Request request) {
		if (hostedCost(request) + this.spillSpent > this.spillBudget + 1e-12) {
			this.spillRefused++;
			return;
		}
		request.pool.cancel(request.ticket, this.now);
		spillNow(request);
	}

	/** Serves a request that holds no slot from the hosted API, if the cap allows. */
	private void spillNow(Request request) {
		double cost = hostedCost(request);
		if (cost + this.spillSpent > this.spillBudget + 1e-12) {
			this.spillRefused++;
			return;
		}
		this.spillSpent += cost;
		request.outcome = Outcome.SPILLED;
		request.grantedAt = this.now;
		request.firstTokenAt = this.now + this.spill.hostedTtft().toNanos();
		request.finishedAt = request.firstTokenAt
				+ Math.max(0, request.traced.outputTokens() - 1) * this.spill.hostedTokenTime().toNanos();
	}

	private double hostedCost(Request request) {
		return this.settings.prices()
			.hostedPrice(poolOf(request.traced))
			.cost(request.traced.promptTokens(), request.traced.outputTokens());
	}

	@Override
	public void firstToken(InferenceEngine.Sequence sequence, long at) {
		Request request = (Request) sequence.attachment();
		if (request.firstTokenAt < 0) {
			request.firstTokenAt = at;
		}
		if (request.lease != null) {
			request.pool.markSent(request.lease);
		}
	}

	@Override
	public void finished(InferenceEngine.Sequence sequence, long at) {
		Request request = (Request) sequence.attachment();
		request.finishedAt = at;
		this.finishedTokens[request.traced.tier().ordinal()] += request.traced.outputTokens();
		request.outcome = Outcome.COMPLETED;
		if (request.lease != null && request.sequence == sequence) {
			this.finishedQueue.add(request);
		}
	}

	/**
	 * Stops the run at the last of the given times and hands the run to the sampler at
	 * each of them, with every engine brought to that time.
	 * @param times increasing virtual times in nanoseconds
	 * @param sampler reads the run ({@link #outputTokens(Tier)},
	 * {@link #busySlotNanos()})
	 * @return this run
	 */
	SimulationRun sampling(long[] times, java.util.function.Consumer<SimulationRun> sampler) {
		this.samples = times.clone();
		this.sampler = sampler;
		return this;
	}

	/**
	 * Useful output tokens of a tier so far: those of finished requests plus those that
	 * running sequences hold; work lost to a preemption drops out again.
	 * @param tier the tier
	 * @return tokens
	 */
	long outputTokens(Tier tier) {
		long tokens = this.finishedTokens[tier.ordinal()];
		for (Request request : this.requests) {
			if (request != null && request.sequence != null && request.traced.tier() == tier) {
				tokens += request.sequence.tokens();
			}
		}
		return tokens;
	}

	/**
	 * Sequences running in the engines, integrated over time since the start.
	 * @return slot-nanoseconds
	 */
	double busySlotNanos() {
		return this.busySlotNanosTotal;
	}

	/**
	 * The engines' slots.
	 * @return slots of the fleet
	 */
	int totalSlots() {
		return this.totalSlots;
	}

	/**
	 * Times to first token, sorted, of the requests of a tier that arrived in a window; a
	 * request with no first token by the end of the run counts as the run's length.
	 * @param tier the tier
	 * @param from window start, inclusive
	 * @param to window end, exclusive
	 * @return milliseconds, sorted
	 */
	double[] ttftMillis(Tier tier, long from, long to) {
		List<Double> values = new ArrayList<>();
		for (Request request : this.requests) {
			if (request == null || request.traced.tier() != tier) {
				continue;
			}
			long arrival = request.traced.offsetNanos();
			if (arrival >= from && arrival < to) {
				long first = (request.firstTokenAt >= 0) ? request.firstTokenAt : this.now;
				values.add((first - arrival) / 1e6);
			}
		}
		return values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
	}

	/**
	 * End-to-end times, sorted, of the requests of a tier that arrived in a window and
	 * finished.
	 * @param tier the tier
	 * @param from window start, inclusive
	 * @param to window end, exclusive
	 * @return milliseconds, sorted
	 */
	double[] e2eMillis(Tier tier, long from, long to) {
		List<Double> values = new ArrayList<>();
		for (Request request : this.requests) {
			if (request != null && request.traced.tier() == tier && request.finishedAt >= 0
					&& request.traced.offsetNanos() >= from && request.traced.offsetNanos() < to) {
				values.add((request.finishedAt - request.traced.offsetNanos()) / 1e6);
			}
		}
		return values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
	}

	private double gpuHours() {
		double spanNanos = Math.max(1e9, this.trace.requests().get(this.trace.requests().size() - 1).offsetNanos());
		return this.settings.fleet().gpus() * spanNanos / 3.6e12;
	}

	private SimulationReport.Run result() {
		double spanSeconds = Math.max(1, this.trace.span().toNanos() / 1e9);
		Map<Tier, TierResult> tiers = new EnumMap<>(Tier.class);
		for (Tier tier : TIERS) {
			List<Request> ofTier = new ArrayList<>();
			for (Request request : this.requests) {
				if (request.traced.tier() == tier) {
					ofTier.add(request);
				}
			}
			tiers.put(tier, tierResult(tier, ofTier, spanSeconds));
		}
		int buckets = Math.max(1, (int) Math.ceil(Math.max(this.now, 1) / this.interval));
		double[] slices = new double[buckets];
		double[] slots = new double[buckets];
		double busyTotal = 0;
		for (int b = 0; b < buckets; b++) {
			double busySlices = (b < this.busySliceNanos.length) ? this.busySliceNanos[b] : 0;
			double busySlots = (b < this.busySlotNanos.length) ? this.busySlotNanos[b] : 0;
			slices[b] = round4(busySlices / (this.interval * this.endpoints.size()));
			slots[b] = round4(busySlots / (this.interval * this.totalSlots));
			busyTotal += busySlices;
		}
		long enginePreemptions = 0;
		for (EndpointSim endpoint : this.endpoints) {
			enginePreemptions += endpoint.engine.preemptions();
		}
		double lastEvent = Math.max(this.now, 1);
		return new SimulationReport.Run(this.name, true, this.endpoints.size(), tiers, this.interval / 1e9, slices,
				slots, round4(busyTotal / (lastEvent * this.endpoints.size())), gpuHours(), this.schedulerPreemptions,
				enginePreemptions, Math.round(this.spillSpent * 1_000_000) / 1_000_000.0);
	}

	private TierResult tierResult(Tier tier, List<Request> requests, double spanSeconds) {
		double slo = this.settings.ttftSlo().get(tier).toNanos() / 1e6;
		int completed = 0;
		int rejected = 0;
		int preempted = 0;
		int spilled = 0;
		long outputTokens = 0;
		double[] queue = new double[requests.size()];
		double[] ttft = new double[requests.size()];
		double[] e2e = new double[requests.size()];
		int inTime = 0;
		for (Request request : requests) {
			switch (request.outcome) {
				case COMPLETED, SPILLED -> {
					if (request.outcome == Outcome.SPILLED) {
						spilled++;
					}
					long arrival = request.traced.offsetNanos();
					queue[completed] = (request.grantedAt - arrival) / 1e6;
					ttft[completed] = (request.firstTokenAt - arrival) / 1e6;
					e2e[completed] = (request.finishedAt - arrival) / 1e6;
					if (ttft[completed] <= slo) {
						inTime++;
					}
					outputTokens += request.traced.outputTokens();
					completed++;
				}
				case REJECTED -> rejected++;
				case PREEMPTED -> preempted++;
				default -> {
				}
			}
		}
		queue = Arrays.copyOf(queue, completed);
		ttft = Arrays.copyOf(ttft, completed);
		e2e = Arrays.copyOf(e2e, completed);
		Arrays.sort(queue);
		Arrays.sort(ttft);
		Arrays.sort(e2e);
		double[] cdf = new double[(completed > 0) ? 100 : 0];
		for (int i = 0; i < cdf.length; i++) {
			cdf[i] = round3(nearestRank(ttft, (i + 1) / 100.0));
		}
		double attainment = requests.isEmpty() ? 1.0 : (double) inTime / requests.size();
		return new TierResult(requests.size(), completed, rejected, preempted, percentiles(queue), percentiles(ttft),
				percentiles(e2e), round4(attainment), round4(completed / spanSeconds),
				round4(outputTokens / spanSeconds), cdf, spilled);
	}

	static Percentiles percentiles(double[] sorted) {
		if (sorted.length == 0) {
			return new Percentiles(0, 0, 0, 0, 0);
		}
		double sum = 0;
		for (double v : sorted) {
			sum += v;
		}
		return new Percentiles(round3(nearestRank(sorted, 0.50)), round3(nearestRank(sorted, 0.95)),
				round3(nearestRank(sorted, 0.99)), round3(sorted[sorted.length - 1]), round3(sum / sorted.length));
	}

	static double nearestRank(double[] sorted, double quantile) {
		int rank = (int) Math.ceil(quantile * sorted.length);
		return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
	}

	private static double round3(double value) {
		return Math.round(value * 1_000) / 1_000.0;
	}

	private static double round4(double value) {
		return Math.round(value * 10_000) / 10_000.0;
	}

	private enum Outcome {

		PENDING, COMPLETED, REJECTED, PREEMPTED, SPILLED

	}

	private static final class Request {

		private final int index;

		private final TraceRequest traced;

		private Ticket ticket;

		private PoolScheduler pool;

		private Lease lease;

		private InferenceEngine.Sequence sequence;

		private long grantedAt = -1;

		private long firstTokenAt = -1;

		private long finishedAt = -1;

		/** When its wait for the fleet runs out and it spills. */
		private long spillAt;

		private Outcome outcome = Outcome.PENDING;

		private Request(int index, TraceRequest traced) {
			this.index = index;
			this.traced = traced;
		}

	}

	private static final class EndpointSim {

		private final int index;

		private final InferenceEngine engine;

		private boolean dirty;

		private int running;

		private EndpointSim(int index, InferenceEngine engine) {
			this.index = index;
			this.engine = engine;
		}

	}

}
