package dev.tiergate.cost;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.tiergate.cost.InferenceEngine.Policy;
import dev.tiergate.cost.InferenceEngine.Sequence;
import dev.tiergate.cost.InferenceEngine.State;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link InferenceEngine}.
 */
class InferenceEngineTests {

	private static final long MS = 1_000_000L;

	/** 1,000 prompt tokens/s, 10 ms a step alone, +50% per further sequence. */
	private static GpuServiceTimeModel model(long kvCacheTokens) {
		GpuProfile gpu = new GpuProfile("TEST-GPU", 1_024, 1_000, Duration.ofMillis(10), 0.5, kvCacheTokens);
		return new GpuServiceTimeModel(gpu, ModelProfile.llama31_8b(), SliceShare.none());
	}

	private final List<String> events = new ArrayList<>();

	private final InferenceEngine.Listener recorder = new InferenceEngine.Listener() {

		@Override
		public void admitted(Sequence sequence, long at) {
			InferenceEngineTests.this.events.add("admit " + sequence.attachment() + " @" + at / MS);
		}

		@Override
		public void finished(Sequence sequence, long at) {
			InferenceEngineTests.this.events.add("finish " + sequence.attachment() + " @" + at / MS);
		}

		@Override
		public void preempted(Sequence sequence, long at) {
			InferenceEngineTests.this.events.add("preempt " + sequence.attachment() + " @" + at / MS);
		}

	};

	private InferenceEngine engine(int slots, Policy policy) {
		return new InferenceEngine(model(1_000_000), slots, policy, this.recorder);
	}

	@Test
	void aLoneSequenceTakesThePrefillThenOneStepPerToken() {
		InferenceEngine engine = engine(4, Policy.FCFS);
		Sequence s = engine.submit(100, 5, 0, "a", 0);

		engine.advanceTo(1_000 * MS);

		assertThat(s.state()).isEqualTo(State.FINISHED);
		assertThat(s.firstTokenAt()).isEqualTo(110 * MS);
		assertThat(s.finishedAt()).isEqualTo(150 * MS);
		assertThat(s.tokens()).isEqualTo(5);
		assertThat(engine.running()).isZero();
		assertThat(engine.residentTokens()).isZero();
	}

	@Test
	void stepsSlowDownWithTheBatch() {
		InferenceEngine engine = engine(4, Policy.FCFS);
		Sequence a = engine.submit(0, 10, 0, "a", 0);
		Sequence b = engine.submit(0, 10, 0, "b", 0);

		engine.advanceTo(1_000 * MS);

		// two in flight: 15 ms a step
		assertThat(a.firstTokenAt()).isEqualTo(15 * MS);
		assertThat(a.finishedAt()).isEqualTo(150 * MS);
		assertThat(b.finishedAt()).isEqualTo(150 * MS);
	}

	@Test
	void sequencesBeyondTheSlotsWaitInArrivalOrderUnderFcfs() {
		InferenceEngine engine = engine(1, Policy.FCFS);
		engine.submit(0, 10, 2, "first", 0);
		engine.submit(0, 10, 1, "second", MS);
		engine.submit(0, 10, 0, "third", 2 * MS);

		assertThat(engine.running()).isEqualTo(1);
		assertThat(engine.waiting()).isEqualTo(2);
		engine.advanceTo(1_000 * MS);

		assertThat(this.events).containsExactly("admit first @0", "finish first @100", "admit second @100",
				"finish second @200", "admit third @200", "finish third @300");
	}

	@Test
	void priorityPolicyOrdersTheWaitingQueueByPriorityThenArrival() {
		InferenceEngine engine = engine(1, Policy.PRIORITY);
		engine.submit(0, 10, 0, "running", 0);
		engine.submit(0, 10, 2, "batch", MS);
		engine.submit(0, 10, 1, "near-1", 2 * MS);
		engine.submit(0, 10, 1, "near-2", 3 * MS);

		engine.advanceTo(1_000 * MS);

		assertThat(this.events).containsExactly("admit running @0", "finish running @100", "admit near-1 @100",
				"finish near-1 @200", "admit near-2 @200", "finish near-2 @300", "admit batch @300",
				"finish batch @400");
	}

	@Test
	void priorityPolicyPreemptsTheRunningLowerPriorityAndRecomputesItLater() {
		InferenceEngine engine = engine(1, Policy.PRIORITY);
		Sequence batch = engine.submit(100, 10, 2, "batch", 0);
		engine.advanceTo(150 * MS);
		assertThat(batch.tokens()).isEqualTo(5);

		Sequence urgent = engine.submit(100, 10, 0, "urgent", 150 * MS);

		assertThat(batch.state()).isEqualTo(State.WAITING);
		assertThat(urgent.state()).isEqualTo(State.PREFILL);
		engine.advanceTo(2_000 * MS);
		assertThat(urgent.finishedAt()).isEqualTo(350 * MS);
		// readmitted at 350: prefill of 100 prompt + 5 generated tokens (105 ms), then 5
		// more steps
		assertThat(batch.finishedAt()).isEqualTo(350 * MS + 105 * MS + 50 * MS);
		assertThat(batch.tokens()).isEqualTo(10);
		assertThat(batch.preemptions()).isEqualTo(1);
		assertThat(batch.firstTokenAt()).isEqualTo(110 * MS);
		assertThat(engine.preemptions()).isEqualTo(1);
		assertThat(this.events).containsExactly("admit batch @0", "preempt batch @150", "admit urgent @150",
				"finish urgent @350", "admit batch @350", "finish batch @505");
	}

	@Test
	void priorityPolicyPreemptsTheLatestOfTheLowestPriority() {
		InferenceEngine engine = engine(3, Policy.PRIORITY);
		engine.submit(0, 100, 1, "p1", 0);
		engine.submit(0, 100, 2, "p2-old", MS);
		Sequence young = engine.submit(0, 100, 2, "p2-young", 2 * MS);

		engine.submit(0, 100, 0, "p0", 3 * MS);

		assertThat(young.state()).isEqualTo(State.WAITING);
		assertThat(this.events).contains("preempt p2-young @3").doesNotContain("preempt p2-old @3");
	}

	@Test
	void equalOrHigherPrioritiesAreNeverPreempted() {
		InferenceEngine engine = engine(1, Policy.PRIORITY);
		Sequence first = engine.submit(0, 10, 1, "first", 0);

		engine.submit(0, 10, 1, "same", MS);
		engine.submit(0, 10, 2, "lower", MS);

		assertThat(first.state()).isEqualTo(State.DECODE);
		assertThat(engine.waiting()).isEqualTo(2);
		assertThat(engine.preemptions()).isZero();
	}

	@Test
	void fcfsIgnoresPriorityAndNeverPreemptsForIt() {
		InferenceEngine engine = engine(1, Policy.FCFS);
		Sequence batch = engine.submit(0, 10, 2, "batch", 0);

		Sequence urgent = engine.submit(0, 10, 0, "urgent", MS);

		assertThat(batch.state()).isNotEqualTo(State.WAITING);
		assertThat(urgent.state()).isEqualTo(State.WAITING);
		assertThat(engine.preemptions()).isZero();
	}

	@Test
	void aPromptThatDoesNotFitTheFreeKvCacheWaitsDespiteAFreeSlot() {
		InferenceEngine engine = new InferenceEngine(model(1_000), 4, Policy.FCFS, this.recorder);
		Sequence a = engine.submit(600, 10, 0, "a", 0);
		Sequence b = engine.submit(600, 10, 0, "b", 0);

		assertThat(engine.running()).isEqualTo(1);
		assertThat(b.state()).isEqualTo(State.WAITING);
		assertThat(engine.kvCacheUsage()).isEqualTo(0.6);
		engine.advanceTo(10_000 * MS);
		assertThat(a.finishedAt()).isEqualTo(700 * MS);
		assertThat(b.admittedAt()).isEqualTo(700 * MS);
	}

	@Test
	void growingSequencesThatOutgrowTheKvCachePreemptTheLatest() {
		InferenceEngine engine = new InferenceEngine(model(1_000), 4, Policy.FCFS, this.recorder);
		Sequence old = engine.submit(400, 200, 0, "old", 0);
		Sequence young = engine.submit(400, 200, 0, "young", 0);

		engine.advanceTo(100_000 * MS);

		assertThat(young.preemptions()).isEqualTo(1);
		assertThat(old.preemptions()).isZero();
		assertThat(old.state()).isEqualTo(State.FINISHED);
		assertThat(young.state()).isEqualTo(State.FINISHED);
		assertThat(young.tokens()).isEqualTo(200);
		assertThat(engine.residentTokens()).isZero();
	}

	@Test
	void abortingFreesTheSlotForTheNextInLine() {
		InferenceEngine engine = engine(1, Policy.FCFS);
		Sequence a = engine.submit(0, 1_000, 0, "a", 0);
		Sequence b = engine.submit(0, 10, 0, "b", 0);

		engine.abort(a, 50 * MS);

		assertThat(a.state()).isEqualTo(State.ABORTED);
		assertThat(b.admittedAt()).isEqualTo(50 * MS);
		assertThat(engine.residentTokens()).isZero();
	}

	@Test
	void nextTokenTimeFollowsTheCurrentBatch() {
		InferenceEngine engine = engine(4, Policy.FCFS);
		Sequence a = engine.submit(100, 10, 0, "a", 0);

		assertThat(engine.nextTokenTime(a)).isEqualTo(110 * MS);
		engine.advanceTo(115 * MS);
		assertThat(a.tokens()).isEqualTo(1);
		assertThat(engine.nextTokenTime(a)).isEqualTo(120 * MS);
	}

}
