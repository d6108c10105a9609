package dev.tiergate.routing;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Tests for {@link RoundLoop}: rounds repeat after a failed one, start is idempotent, and
 * stop ends the loop during its pause.
 */
class RoundLoopTests {

	@Test
	void roundsGoOnAfterAFailedOneAndStopEndsThemDuringThePause() {
		AtomicInteger rounds = new AtomicInteger();
		RoundLoop loop = new RoundLoop("test-rounds", Duration.ofMillis(10), () -> {
			if (rounds.incrementAndGet() == 2) {
				throw new IllegalStateException("second round fails");
			}
		}, LoggerFactory.getLogger(RoundLoopTests.class));
		assertThat(loop.isRunning()).isFalse();
		loop.start();
		loop.start();
		assertThat(loop.isRunning()).isTrue();
		await().atMost(Duration.ofSeconds(5)).until(() -> rounds.get() >= 5);
		loop.stop();
		assertThat(loop.isRunning()).isFalse();
		int stoppedAt = rounds.get();
		await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(2)).until(() -> rounds.get() <= stoppedAt + 1);
	}

	@Test
	void aStoppedLoopStartsAgain() {
		AtomicInteger rounds = new AtomicInteger();
		RoundLoop loop = new RoundLoop("test-rounds", Duration.ofHours(1), rounds::incrementAndGet,
				LoggerFactory.getLogger(RoundLoopTests.class));
		loop.start();
		await().atMost(Duration.ofSeconds(5)).until(() -> rounds.get() == 1);
		loop.stop();
		loop.start();
		await().atMost(Duration.ofSeconds(5)).until(() -> rounds.get() == 2);
		loop.stop();
	}

}
