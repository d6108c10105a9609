package dev.tiergate.cost;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;

/**
 * A vLLM-like inference engine on one GPU slice, as a deterministic state machine: the
 * caller supplies the time (nanoseconds on any monotonic clock, real or virtual) with
 * every call, and the engine does no I/O, starts no thread and reads no clock. The
 * simulated inference server of the embedded fleet drives it in real time, the simulator
 * on a virtual clock, so both follow the same rules:
 * <ul>
 * <li>At most {@code maxBatch} sequences run at once (vLLM's {@code --max-num-seqs}, the
 * endpoint's slots); the others wait in the <b>waiting queue</b>.</li>
 * <li>A sequence is admitted only if the prompt (and any tokens it had already generated
 * before a preemption) fits in the free <b>KV cache</b>
 * ({@link GpuServiceTimeModel#kvCacheCapacityTokens()}), unless nothing runs (then it is
 * admitted anyway, as vLLM would run a prompt that fits the cache alone). When the
 * generated tokens make the resident tokens outgrow the cache, the engine preempts
 * running sequences (the victim rule below) until they fit again, as vLLM does when it
 * cannot allocate a block, and admits nobody at that moment; admission keeps a
 * {@linkplain #WATERMARK watermark} of the cache free. A preempted sequence is
 * recomputed: on readmission it prefills its prompt and the tokens it had generated, then
 * goes on generating.</li>
 * <li>A running sequence first <b>prefills</b> its prompt
 * ({@link GpuServiceTimeModel#prefillNanos(long)}), then <b>decodes</b> one token per
 * step; a step takes {@link GpuServiceTimeModel#stepNanos(int)} for the number of
 * sequences running (prefilling ones count: they share the GPU). Between two events the
 * batch is constant, so tokens are a continuous function of time; the first token comes
 * one step after the prefill.</li>
 * <li>With {@link Policy#FCFS} (vLLM's default) the waiting queue is ordered by arrival
 * and the request's {@code priority} is ignored. With {@link Policy#PRIORITY} (vLLM's
 * {@code --scheduling-policy priority}) it is ordered by {@code (priority, arrival)}, a
 * lower value first, and a waiting sequence that cannot be admitted (batch full or cache
 * full) <b>preempts</b> the running sequence with the highest {@code (priority, arrival)}
 * if that one has a strictly higher priority value, as vLLM's V0 scheduler does
 * ({@code _schedule_priority_preemption}). Preempted sequences keep their arrival, so
 * they wait ahead of later arrivals of the same priority.</li>
 * </ul>
 * Not thread-safe: callers serialize calls (the live server holds a lock).
 */
public final class InferenceEngine {

	private static final double EPSILON = 1e-9;

	/**
	 * The part of the KV cache kept free when admitting, so that a sequence admitted is
	 * not preempted at its next token (vLLM's block manager watermark, 0.01).
	 */
	public static final double WATERMARK = 0.01;

	private final GpuServiceTimeModel serviceTime;

	private final int maxBatch;

	private final long kvCapacity;

	private final long admissionLimit;

	private final Policy policy;

	private final Listener listener;

	private final PriorityQueue<Sequence> waiting;

	private final List<Sequence> running = new ArrayList<>();

	private long now = Long.MIN_VALUE;

	private long arrivals;

	private long residentTokens;

	private long preemptions;

	/**
	 * An engine.
	 * @param serviceTime the service-time model of the slice and model served
	 * @param maxBatch most sequences running at once (the endpoint's slots), 1 or more
	 * @param policy how the waiting queue is ordered
	 * @param listener told of every admission, first token, finish and preemption, while
	 * the engine handles a call; it must not call back into the engine
	 */
	public InferenceEngine(GpuServiceTimeModel serviceTime, int maxBatch, Policy policy, Listener listener) {
		this(serviceTime, maxBatch, (serviceTime != null) ? serviceTime.kvCacheCapacityTokens() : 1, policy, listener);
	}

	/**
	 * An engine with a KV cache of a given size.
	 * @param serviceTime the service-time model of the slice and model served
	 * @param maxBatch most sequences running at once (the endpoint's slots), 1 or more
	 * @param kvCapacityTokens tokens of the served model the slice's KV cache holds, 1 or
	 * more
	 * @param policy how the waiting queue is ordered
	 * @param listener told of every admission, first token, finish and preemption, while
	 * the engine handles a call; it must not call back into the engine
	 */
	public InferenceEngine(GpuServiceTimeModel serviceTime, int maxBatch, long kvCapacityTokens, Policy policy,
			Listener listener) {
		if (serviceTime == null || policy == null || listener == null) {
			throw new IllegalArgumentException("serviceTime, policy and listener must not be null");
		}
		if (maxBatch < 1) {
			throw new IllegalArgumentException("maxBatch must be at least 1, was " + maxBatch);
		}
		this.serviceTime = serviceTime;
		this.maxBatch = maxBatch;
		if (kvCapacityTokens < 1) {
			throw new IllegalArgumentException("kvCapacityTokens must be at least 1, was " + kvCapacityTokens);
		}
		this.kvCapacity = kvCapacityTokens;
		this.admissionLimit = (long) (this.kvCapacity * (1 - WATERMARK));
		this.policy = policy;
		this.listener = listener;
		this.waiting = new PriorityQueue<>((policy == Policy.PRIORITY)
				? Comparator.comparingInt((Sequence s) -> s.priority).thenComparingLong((s) -> s.arrival)
				: Comparator.comparingLong((Sequence s) -> s.arrival));
	}

	/**
	 * A request arrives.
	 * @param promptTokens prompt tokens, 0 or more
	 * @param outputTokens tokens to generate, 1 or more
	 * @param priority vLLM's {@code priority} (lower is served first; 0 when the request
	 * carries none); ignored under {@link Policy#FCFS}
	 * @param attachment caller's data, handed back on the sequence
	 * @param now the time in nanoseconds
	 * @return the new sequence
	 */
	public Sequence submit(long promptTokens, long outputTokens, int priority, Object attachment, long now) {
		if (promptTokens < 0 || outputTokens < 1) {
			throw new IllegalArgumentException(
					"promptTokens must be >= 0 and outputTokens >= 1, was " + promptTokens + ", " + outputTokens);
		}
		advanceTo(now);
		Sequence sequence = new Sequence(promptTokens, outputTokens, priority, this.arrivals++, this.now, attachment);
		this.waiting.add(sequence);
		schedule();
		return sequence;
	}

	/**
	 * The caller gives up on a sequence (its client went away, or a scheduler above took
	 * its slot): it leaves the waiting queue or the batch at once.
	 * @param sequence the sequence
	 * @param now the time in nanoseconds
	 */
	public void abort(Sequence sequence, long now) {
		advanceTo(now);
		if (sequence.state == State.WAITING) {
			this.waiting.remove(sequence);
		}
		else if (sequence.state == State.PREFILL || sequence.state == State.DECODE) {
			removeRunning(sequence);
		}
		else {
			return;
		}
		sequence.state = State.ABORTED;
		schedule();
	}

	/**
	 * Time passed: every event up to {@code now} happens, in order, at its own time.
	 * @param now the time in nanoseconds; a time before the last one seen counts as the
	 * last one
	 */
	public void advanceTo(long now) {
		if (this.now == Long.MIN_VALUE) {
			this.now = now;
		}
		long target = Math.max(now, this.now);
		long next;
		while ((next = nextEventTime()) <= target) {
			moveTo(next);
			handleEventsAt(next);
		}
		moveTo(target);
	}

	/**
	 * When the next event (a prefill ending, a first token, a sequence finishing) happens
	 * if nothing arrives before.
	 * @return nanoseconds, or {@link Long#MAX_VALUE} when nothing runs
	 */
	public long nextEventTime() {
		long next = Long.MAX_VALUE;
		if (this.running.isEmpty()) {
			return next;
		}
		double step = stepNanos();
		for (int i = 0; i < this.running.size(); i++) {
			Sequence s = this.running.get(i);
			long at;
			if (s.state == State.PREFILL) {
				at = s.prefillEnd;
			}
			else {
				double milestone = (s.firstTokenAt < 0) ? Math.max(1, s.resumeFrom + 1) : s.outputTokens;
				at = this.now + (long) Math.ceil(Math.max(0, milestone - s.progress) * step);
			}
			next = Math.min(next, at);
		}
		if (this.running.size() > 1) {
			int decoding = 0;
			for (int i = 0; i < this.running.size(); i++) {
				if (this.running.get(i).state == State.DECODE) {
					decoding++;
				}
			}
			if (decoding > 0) {
				double room = this.kvCapacity - continuousResident();
				long full = (room < 0) ? this.now : this.now + (long) Math.ceil(room / decoding * step) + 1;
				next = Math.min(next, full);
			}
		}
		return next;
	}

	/** The resident tokens with generated tokens counted continuously. */
	private double continuousResident() {
		double sum = 0;
		for (int i = 0; i < this.running.size(); i++) {
			Sequence s = this.running.get(i);
			sum += s.promptTokens + s.progress;
		}
		return sum;
	}

	/**
	 * When the sequence's next token is due if the batch stays as it is; the live server
	 * sleeps until then.
	 * @param sequence a sequence
	 * @return nanoseconds, or {@link Long#MAX_VALUE} when it is not running
	 */
	public long nextTokenTime(Sequence sequence) {
		double step = stepNanos();
		return switch (sequence.state) {
			case PREFILL -> sequence.prefillEnd + (long) Math.ceil(step);
			case DECODE ->
				this.now + (long) Math.ceil((Math.floor(sequence.progress + EPSILON) + 1 - sequence.progress) * step);
			default -> Long.MAX_VALUE;
		};
	}

	/**
	 * The sequences running now (prefilling or decoding).
	 * @return the running count
	 */
	public int running() {
		return this.running.size();
	}

	/**
	 * The sequences waiting for admission now.
	 * @return the waiting count
	 */
	public int waiting() {
		return this.waiting.size();
	}

	/**
	 * How many tokens (prompts and generated) sit in the KV cache now.
	 * @return tokens
	 */
	public long residentTokens() {
		return this.residentTokens;
	}

	/**
	 * How full the KV cache is.
	 * @return the used fraction, in [0, 1]
	 */
	public double kvCacheUsage() {
		return Math.min(1.0, (double) this.residentTokens / this.kvCapacity);
	}

	/**
	 * How many times the engine preempted a running sequence.
	 * @return the count
	 */
	public long preemptions() {
		return this.preemptions;
	}

	/**
	 * The engine's slot count.
	 * @return the most sequences running at once
	 */
	public int maxBatch() {
		return this.maxBatch;
	}

	private double stepNanos() {
		return this.serviceTime.stepNanos(Math.max(1, this.running.size()));
	}

	private void moveTo(long time) {
		if (time <= this.now) {
			return;
		}
		double step = stepNanos();
		for (int i = 0; i < this.running.size(); i++) {
			Sequence s = this.running.get(i);
			if (s.state == State.DECODE) {
				long from = Math.max(this.now, s.prefillEnd);
				if (time > from) {
					long before = s.tokens();
					s.progress = Math.min(s.outputTokens, s.progress + (time - from) / step);
					long grown = s.tokens() - before;
					this.residentTokens += grown;
				}
			}
		}
		this.now = time;
	}

	private void handleEventsAt(long time) {
		boolean changed = false;
		for (int i = 0; i < this.running.size(); i++) {
			Sequence s = this.running.get(i);
			if (s.state == State.PREFILL && s.prefillEnd <= time) {
				s.state = State.DECODE;
			}
			if (s.state == State.DECODE && s.firstTokenAt < 0 && s.progress + EPSILON >= s.resumeFrom + 1) {
				if (s.progress < s.resumeFrom + 1) {
					s.progress = s.resumeFrom + 1;
				}
				s.firstTokenAt = time;
				this.listener.firstToken(s, time);
			}
		}
		for (int i = 0; i < this.running.size(); i++) {
			Sequence s = this.running.get(i);
			if (s.state == State.DECODE && s.progress + EPSILON >= s.outputTokens) {
				long before = s.tokens();
				s.progress = s.outputTokens;
				this.residentTokens += s.tokens() - before;
				removeRunning(s);
				i--;
				s.state = State.FINISHED;
				s.finishedAt = time;
				this.listener.finished(s, time);
				changed = true;
			}
		}
		boolean cacheFull = false;
		while (this.running.size() > 1 && continuousResident() > this.kvCapacity) {
			preempt(victim());
			cacheFull = true;
		}
		if (!cacheFull && (changed || !this.waiting.isEmpty())) {
			schedule();
		}
	}

	private void schedule() {
		Sequence head;
		while ((head = this.waiting.peek()) != null) {
			long need = head.promptTokens + head.tokens();
			boolean fits = this.running.size() < this.maxBatch
					&& (this.running.isEmpty() || this.residentTokens + need <= this.admissionLimit);
			if (fits) {
				this.waiting.poll();
				admit(head, need);
				continue;
			}
			if (this.policy == Policy.PRIORITY && !this.running.isEmpty()) {
				Sequence victim = victim();
				if (victim.priority > head.priority) {
					preempt(victim);
					continue;
				}
			}
			break;
		}
	}

	private void admit(Sequence s, long need) {
		s.state = State.PREFILL;
		s.resumeFrom = s.tokens();
		s.progress = s.resumeFrom;
		s.prefillEnd = this.now + (long) Math.ceil(this.serviceTime.prefillNanos(need));
		if (s.admittedAt < 0) {
			s.admittedAt = this.now;
		}
		this.running.add(s);
		this.residentTokens += need;
		this.listener.admitted(s, this.now);
	}

	private Sequence victim() {
		Sequence victim = null;
		for (Sequence s : this.running) {
			if (victim == null || (this.policy == Policy.PRIORITY && s.priority > victim.priority)
					|| ((this.policy != Policy.PRIORITY || s.priority == victim.priority)
							&& s.arrival > victim.arrival)) {
				victim = s;
			}
		}
		return victim;
	}

	private void preempt(Sequence s) {
		removeRunning(s);
		s.progress = s.tokens();
		s.state = State.WAITING;
		s.preemptions++;
		this.preemptions++;
		this.waiting.add(s);
		this.listener.preempted(s, this.now);
	}

	private void removeRunning(Sequence s) {
		this.running.remove(s);
		this.residentTokens -= s.promptTokens + s.tokens();
	}

	/**
	 * How the waiting queue is ordered.
	 */
	public enum Policy {

		/** First come, first served; {@code priority} is ignored (vLLM's default). */
		FCFS,

		/**
		 * By {@code (priority, arrival)}, lower first, with preemption of running
		 * sequences of a higher priority value.
		 */
		PRIORITY

	}

	/**
	 * Where a sequence stands.
	 */
	public enum State {

		/** In the waiting queue (new, or preempted). */
		WAITING,

		/** Running, processing its prompt. */
		PREFILL,

		/** Running, generating tokens. */
		DECODE,

		/** All tokens generated. */
		FINISHED,

		/** Given up by the caller. */
		ABORTED

	}

	/**
	 * Receives what happens to sequences, synchronously, while the engine handles a call.
	 */
	public interface Listener {

		/**
		 * A sequence got into the batch (again, after a preemption).
		 * @param sequence the sequence
		 * @param at the time
		 */
		default void admitted(Sequence sequence, long at) {
		}

		/**
		 * A sequence produced its first token (once, even if it is preempted later).
		 * @param sequence the sequence
		 * @param at the time
		 */
		default void firstToken(Sequence sequence, long at) {
		}

		/**
		 * A sequence generated its last token and left the batch.
		 * @param sequence the sequence
		 * @param at the time
		 */
		default void finished(Sequence sequence, long at) {
		}

		/**
		 * A running sequence was sent back to the waiting queue.
		 * @param sequence the sequence
		 * @param at the time
		 */
		default void preempted(Sequence sequence, long at) {
		}

	}

	/**
	 * One request inside the engine.
	 */
	public static final class Sequence {

		private final long promptTokens;

		private final long outputTokens;

		private final int priority;

		private final long arrival;

		private final long arrivedAt;

		private final Object attachment;

		private State state = State.WAITING;

		private double progress;

		private long resumeFrom;

		private long prefillEnd;

		private long admittedAt = -1;

		private long firstTokenAt = -1;

		private long finishedAt = -1;

		private int preemptions;

		private Sequence(long promptTokens, long outputTokens, int priority, long arrival, long arrivedAt,
				Object attachment) {
			this.promptTokens = promptTokens;
			this.outputTokens = outputTokens;
			this.priority = priority;
			this.arrival = arrival;
			this.arrivedAt = arrivedAt;
			this.attachment = attachment;
		}

		/**
		 * Where it stands.
		 * @return the state
		 */
		public State state() {
			return this.state;
		}

		/**
		 * Tokens generated so far (as of the engine's last call).
		 * @return whole tokens
		 */
		public long tokens() {
			return (long) Math.floor(this.progress + EPSILON);
		}

		/**
		 * The prompt's tokens.
		 * @return tokens
		 */
		public long promptTokens() {
			return this.promptTokens;
		}

		/**
		 * Tokens to generate.
		 * @return tokens
		 */
		public long outputTokens() {
			return this.outputTokens;
		}

		/**
		 * Its {@code priority}.
		 * @return the priority
		 */
		public int priority() {
			return this.priority;
		}

		/**
		 * When it arrived.
		 * @return nanoseconds
		 */
		public long arrivedAt() {
			return this.arrivedAt;
		}

		/**
		 * When it was first admitted.
		 * @return nanoseconds, -1 while never admitted
		 */
		public long admittedAt() {
			return this.admittedAt;
		}

		/**
		 * When its first token came out.
		 * @return nanoseconds, -1 before
		 */
		public long firstTokenAt() {
			return this.firstTokenAt;
		}

		/**
		 * When it finished.
		 * @return nanoseconds, -1 before
		 */
		public long finishedAt() {
			return this.finishedAt;
		}

		/**
		 * How many times the engine preempted it.
		 * @return the count
		 */
		public int preemptions() {
			return this.preemptions;
		}

		/**
		 * The caller's data.
		 * @return the attachment
		 */
		public Object attachment() {
			return this.attachment;
		}

	}

}
