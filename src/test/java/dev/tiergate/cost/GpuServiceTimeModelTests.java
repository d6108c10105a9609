package dev.tiergate.cost;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.within;

/**
 * Tests for {@link GpuServiceTimeModel}.
 */
class GpuServiceTimeModelTests {

	private static final GpuProfile TEST_GPU = new GpuProfile("TEST-GPU", 16_384, 1_000, Duration.ofMillis(10), 0.5,
			10_000);

	private static final ModelProfile TEST_MODEL = new ModelProfile("test-model", 8, 2.0, 2.0);

	private final GpuServiceTimeModel a100Llama = new GpuServiceTimeModel(GpuProfile.a100Sxm80gb(),
			ModelProfile.llama31_8b(), SliceShare.none());

	@Test
	void fixedProfileOnWholeGpuGivesExactTimes() {
		GpuServiceTimeModel model = new GpuServiceTimeModel(TEST_GPU, TEST_MODEL, SliceShare.none());
		assertThat(model.prefillTime(500)).isEqualTo(Duration.ofSeconds(1));
		assertThat(model.decodeStepTime(1)).isEqualTo(Duration.ofMillis(20));
		assertThat(model.decodeStepTime(3)).isEqualTo(Duration.ofMillis(40));
		assertThat(model.timeToFirstToken(500, 3)).isEqualTo(Duration.ofMillis(1_040));
		assertThat(model.totalTime(500, 10, 3)).isEqualTo(Duration.ofMillis(1_400));
		assertThat(model.totalTime(500, 0, 3)).isEqualTo(Duration.ofSeconds(1));
		assertThat(model.kvCacheCapacityTokens()).isEqualTo(5_000);
		assertThat(model.kvCacheUsage(1_250)).isEqualTo(0.25);
	}

	@Test
	void fixedProfileOnSharedGpuGivesExactTimes() {
		GpuServiceTimeModel mps = new GpuServiceTimeModel(TEST_GPU, TEST_MODEL, SliceShare.mps(2));
		assertThat(mps.prefillTime(500)).isEqualTo(Duration.ofNanos(2_105_263_158L));
		assertThat(mps.decodeStepTime(1)).isEqualTo(Duration.ofNanos(42_105_263L));
		assertThat(mps.kvCacheCapacityTokens()).isEqualTo(2_500);
		GpuServiceTimeModel timeSliced = new GpuServiceTimeModel(TEST_GPU, TEST_MODEL, SliceShare.timeSlicing(2));
		assertThat(timeSliced.prefillTime(500)).isEqualTo(Duration.ofNanos(2_222_222_222L));
		assertThat(timeSliced.kvCacheCapacityTokens()).isEqualTo(2_500);
	}

	@Test
	void timeScaleMultipliesEveryTime() {
		GpuServiceTimeModel model = new GpuServiceTimeModel(TEST_GPU, TEST_MODEL, SliceShare.none(), 0.1);
		assertThat(model.prefillTime(500)).isEqualTo(Duration.ofMillis(100));
		assertThat(model.decodeStepTime(3)).isEqualTo(Duration.ofMillis(4));
		assertThat(model.totalTime(500, 10, 3)).isEqualTo(Duration.ofMillis(140));
		assertThat(model.withTimeScale(1.0).totalTime(500, 10, 3)).isEqualTo(Duration.ofMillis(1_400));
	}

	@Test
	void defaultsAreInARealisticBallpark() {
		double prefillTokensPerSecond = 1_000.0 / this.a100Llama.prefillTime(1_000).toNanos() * 1e9;
		assertThat(prefillTokensPerSecond).isBetween(8_000.0, 12_000.0);
		assertThat(this.a100Llama.decodeStepTime(1)).isBetween(Duration.ofMillis(10), Duration.ofMillis(15));
		GpuServiceTimeModel qwen = new GpuServiceTimeModel(GpuProfile.a100Sxm80gb(), ModelProfile.qwen25_32b(),
				SliceShare.none());
		assertThat(qwen.decodeStepTime(1)).isBetween(Duration.ofMillis(30), Duration.ofMillis(40));
		assertThat(ModelProfile.llama31_8b().name()).isEqualTo("llama-3.1-8b-instruct");
		assertThat(ModelProfile.qwen25_32b().name()).isEqualTo("qwen2.5-32b-instruct");
		assertThat(GpuProfile.a100Sxm80gb().product()).isEqualTo("NVIDIA-A100-SXM4-80GB");
	}

	@Test
	void timesGrowWithPromptTokens() {
		Duration previousPrefill = Duration.ZERO;
		Duration previousFirstToken = Duration.ZERO;
		for (int promptTokens = 1; promptTokens <= 100_000; promptTokens *= 3) {
			assertThat(this.a100Llama.prefillTime(promptTokens)).isGreaterThan(previousPrefill);
			assertThat(this.a100Llama.timeToFirstToken(promptTokens, 4)).isGreaterThan(previousFirstToken);
			previousPrefill = this.a100Llama.prefillTime(promptTokens);
			previousFirstToken = this.a100Llama.timeToFirstToken(promptTokens, 4);
		}
	}

	@Test
	void stepsSlowDownButThroughputGrowsWithSequencesInFlight() {
		Duration previousStep = Duration.ZERO;
		Duration previousTotal = Duration.ZERO;
		double previousTokensPerSecond = 0;
		for (int sequences = 1; sequences <= 256; sequences++) {
			Duration step = this.a100Llama.decodeStepTime(sequences);
			assertThat(step).isGreaterThan(previousStep);
			Duration total = this.a100Llama.totalTime(100, 50, sequences);
			assertThat(total).isGreaterThan(previousTotal);
			previousTotal = total;
			double tokensPerSecond = sequences * 1e9 / step.toNanos();
			assertThat(tokensPerSecond).isGreaterThan(previousTokensPerSecond);
			previousStep = step;
			previousTokensPerSecond = tokensPerSecond;
		}
	}

	@Test
	void mpsSliceServesARequestSlowerThanAWholeGpu() {
		GpuServiceTimeModel mps = new GpuServiceTimeModel(GpuProfile.a100Sxm80gb(), ModelProfile.llama31_8b(),
				SliceShare.mps(4));
		assertThat(mps.totalTime(500, 100, 1)).isGreaterThan(this.a100Llama.totalTime(500, 100, 1));
		assertThat(mps.timeToFirstToken(500, 1)).isGreaterThan(this.a100Llama.timeToFirstToken(500, 1));
		double slowdown = (double) mps.totalTime(500, 100, 1).toNanos()
				/ this.a100Llama.totalTime(500, 100, 1).toNanos();
		assertThat(slowdown).isCloseTo(4 / (1 - SliceShare.MPS_OVERHEAD), within(1e-6));
		assertThat(mps.kvCacheCapacityTokens()).isEqualTo(this.a100Llama.kvCacheCapacityTokens() / 4);
	}

	@Test
	void busyTimeSlicedGpuIsSlowerThanMpsWithTheSameReplicas() {
		GpuServiceTimeModel mps = new GpuServiceTimeModel(GpuProfile.a100Sxm80gb(), ModelProfile.llama31_8b(),
				SliceShare.mps(4));
		GpuServiceTimeModel timeSliced = new GpuServiceTimeModel(GpuProfile.a100Sxm80gb(), ModelProfile.llama31_8b(),
				SliceShare.timeSlicing(4));
		assertThat(timeSliced.totalTime(500, 100, 1)).isGreaterThan(mps.totalTime(500, 100, 1));
		GpuServiceTimeModel singleTimeSlice = new GpuServiceTimeModel(GpuProfile.a100Sxm80gb(),
				ModelProfile.llama31_8b(), SliceShare.timeSlicing(1));
		assertThat(singleTimeSlice.totalTime(500, 100, 1)).isEqualTo(this.a100Llama.totalTime(500, 100, 1));
	}

	@Test
	void biggerModelIsSlowerAndFillsTheKvCacheFaster() {
		GpuServiceTimeModel qwen = new GpuServiceTimeModel(GpuProfile.a100Sxm80gb(), ModelProfile.qwen25_32b(),
				SliceShare.none());
		assertThat(qwen.prefillTime(1_000)).isGreaterThan(this.a100Llama.prefillTime(1_000));
		assertThat(qwen.decodeStepTime(8)).isGreaterThan(this.a100Llama.decodeStepTime(8));
		assertThat(qwen.totalTime(1_000, 200, 8)).isGreaterThan(this.a100Llama.totalTime(1_000, 200, 8));
		assertThat(qwen.kvCacheUsage(100_000)).isGreaterThan(this.a100Llama.kvCacheUsage(100_000));
	}

	@Test
	void kvCacheUsageStaysBetweenZeroAndOne() {
		assertThat(this.a100Llama.kvCacheUsage(0)).isZero();
		assertThat(this.a100Llama.kvCacheUsage(this.a100Llama.kvCacheCapacityTokens())).isEqualTo(1.0);
		assertThat(this.a100Llama.kvCacheUsage(Long.MAX_VALUE)).isEqualTo(1.0);
		assertThat(this.a100Llama.kvCacheUsage(1)).isBetween(0.0, 1.0);
	}

	@Test
	void sameInputsGiveSameTimes() {
		GpuServiceTimeModel again = new GpuServiceTimeModel(GpuProfile.a100Sxm80gb(), ModelProfile.llama31_8b(),
				SliceShare.none());
		assertThat(again).isEqualTo(this.a100Llama);
		assertThat(again.totalTime(1_234, 567, 17)).isEqualTo(this.a100Llama.totalTime(1_234, 567, 17));
	}

	@Test
	void badGpuProfileIsRejectedNamingTheField() {
		assertThatIllegalArgumentException().isThrownBy(() -> new GpuProfile(" ", 1, 1, Duration.ofMillis(1), 0, 1))
			.withMessageContaining("product");
		assertThatIllegalArgumentException().isThrownBy(() -> new GpuProfile("g", 0, 1, Duration.ofMillis(1), 0, 1))
			.withMessageContaining("memoryMib");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> new GpuProfile("g", 1, Double.NaN, Duration.ofMillis(1), 0, 1))
			.withMessageContaining("prefillTokensPerSecond");
		assertThatIllegalArgumentException().isThrownBy(() -> new GpuProfile("g", 1, 1, Duration.ZERO, 0, 1))
			.withMessageContaining("decodeTimePerToken");
		assertThatIllegalArgumentException().isThrownBy(() -> new GpuProfile("g", 1, 1, Duration.ofMillis(1), -0.1, 1))
			.withMessageContaining("decodeBatchGrowth");
		assertThatIllegalArgumentException().isThrownBy(() -> new GpuProfile("g", 1, 1, Duration.ofMillis(1), 0, 0))
			.withMessageContaining("kvCacheTokens");
	}

	@Test
	void badModelProfileIsRejectedNamingTheField() {
		assertThatIllegalArgumentException().isThrownBy(() -> new ModelProfile(null, 8, 1, 1))
			.withMessageContaining("name");
		assertThatIllegalArgumentException().isThrownBy(() -> new ModelProfile("m", 0, 1, 1))
			.withMessageContaining("parametersBillions");
		assertThatIllegalArgumentException().isThrownBy(() -> new ModelProfile("m", 8, -1, 1))
			.withMessageContaining("costFactor");
		assertThatIllegalArgumentException().isThrownBy(() -> new ModelProfile("m", 8, 1, Double.POSITIVE_INFINITY))
			.withMessageContaining("kvFootprint");
	}

	@Test
	void badSliceShareIsRejectedNamingTheField() {
		assertThatIllegalArgumentException().isThrownBy(() -> new SliceShare(null, 1))
			.withMessageContaining("strategy");
		assertThatIllegalArgumentException().isThrownBy(() -> SliceShare.mps(0)).withMessageContaining("replicas");
		assertThatIllegalArgumentException().isThrownBy(() -> SliceShare.mps(49)).withMessageContaining("replicas");
		assertThatIllegalArgumentException().isThrownBy(() -> new SliceShare(SharingStrategy.NONE, 2))
			.withMessageContaining("replicas");
		assertThat(SliceShare.mps(48).replicas()).isEqualTo(48);
		assertThat(SliceShare.timeSlicing(100).replicas()).isEqualTo(100);
	}

	@Test
	void badModelArgumentsAreRejectedNamingTheField() {
		assertThatIllegalArgumentException()
			.isThrownBy(() -> new GpuServiceTimeModel(null, ModelProfile.llama31_8b(), SliceShare.none()))
			.withMessageContaining("gpu");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> new GpuServiceTimeModel(GpuProfile.a100Sxm80gb(), null, SliceShare.none()))
			.withMessageContaining("model");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> new GpuServiceTimeModel(GpuProfile.a100Sxm80gb(), ModelProfile.llama31_8b(), null))
			.withMessageContaining("share");
		assertThatIllegalArgumentException().isThrownBy(() -> this.a100Llama.withTimeScale(0))
			.withMessageContaining("timeScale");
		assertThatIllegalArgumentException().isThrownBy(() -> this.a100Llama.prefillTime(-1))
			.withMessageContaining("promptTokens");
		assertThatIllegalArgumentException().isThrownBy(() -> this.a100Llama.decodeStepTime(0))
			.withMessageContaining("sequencesInFlight");
		assertThatIllegalArgumentException().isThrownBy(() -> this.a100Llama.totalTime(1, -1, 1))
			.withMessageContaining("completionTokens");
		assertThatIllegalArgumentException().isThrownBy(() -> this.a100Llama.kvCacheUsage(-1))
			.withMessageContaining("tokensResident");
	}

}
