package dev.tiergate.proxy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * An answer's body that gives up on a silent endpoint, checked by the {@link Sweeper}:
 * sweeps with chosen times (the sweeping thread's own tick is an hour, so it never runs)
 * and, last, the real thread.
 */
class IdleTimeoutInputStreamTests {

	private static final Duration IDLE = Duration.ofSeconds(5);

	private final Sweeper sweeper = new Sweeper("idle-tests", Duration.ofHours(1));

	@AfterEach
	void stop() {
		this.sweeper.close();
	}

	@Test
	void aReadSilentForTheIdleTimeoutFailsAndClosesTheBody() throws Exception {
		Stalled stalled = new Stalled();
		IdleTimeoutInputStream body = IdleTimeoutInputStream.watch(stalled, this.sweeper, IDLE);
		Future<Integer> read = reading(body);
		assertThat(stalled.reading.await(10, TimeUnit.SECONDS)).isTrue();
		long started = System.nanoTime();
		this.sweeper.sweep(started + IDLE.toNanos() - TimeUnit.SECONDS.toNanos(1));
		assertThat(read.isDone()).isFalse();
		assertThat(stalled.closed).isFalse();
		this.sweeper.sweep(started + IDLE.toNanos() + 1);
		assertThatThrownBy(() -> read.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
			.cause()
			.isInstanceOf(IdleTimeoutInputStream.IdleTimeoutException.class)
			.hasMessage("no byte from the endpoint for PT5S");
		assertThat(stalled.closed).isTrue();
		assertThat(this.sweeper.size()).isZero();
	}

	@Test
	void timeBetweenReadsDoesNotCount() throws Exception {
		try (IdleTimeoutInputStream body = IdleTimeoutInputStream.watch(new ByteArrayInputStream(new byte[] { 1, 2 }),
				this.sweeper, IDLE)) {
			assertThat(body.read()).isEqualTo(1);
			// The caller takes longer than the idle timeout to write what it read.
			this.sweeper.sweep(System.nanoTime() + 10 * IDLE.toNanos());
			assertThat(body.read()).isEqualTo(2);
			assertThat(body.read()).isEqualTo(-1);
			assertThat(this.sweeper.size()).isOne();
		}
		assertThat(this.sweeper.size()).isZero();
	}

	@Test
	void aClosedBodyIsNoLongerChecked() throws IOException {
		Stalled stalled = new Stalled();
		IdleTimeoutInputStream body = IdleTimeoutInputStream.watch(stalled, this.sweeper, IDLE);
		assertThat(this.sweeper.size()).isOne();
		body.close();
		assertThat(stalled.closed).isTrue();
		assertThat(this.sweeper.size()).isZero();
	}

	@Test
	void theSweepingThreadEndsAStalledRead() throws Exception {
		try (Sweeper ticking = new Sweeper("idle-tests-ticking", Duration.ofMillis(10))) {
			Stalled stalled = new Stalled();
			IdleTimeoutInputStream body = IdleTimeoutInputStream.watch(stalled, ticking, Duration.ofMillis(50));
			assertThatThrownBy(() -> body.read(new byte[8], 0, 8))
				.isInstanceOf(IdleTimeoutInputStream.IdleTimeoutException.class);
			assertThat(stalled.closed).isTrue();
			assertThat(ticking.size()).isZero();
		}
	}

	@Test
	void aFailingCheckDoesNotStopTheOthers() throws Exception {
		Stalled stalled = new Stalled();
		IdleTimeoutInputStream body = IdleTimeoutInputStream.watch(stalled, this.sweeper, IDLE);
		this.sweeper.add((now) -> {
			throw new IllegalStateException("broken check");
		});
		Future<Integer> read = reading(body);
		assertThat(stalled.reading.await(10, TimeUnit.SECONDS)).isTrue();
		this.sweeper.sweep(System.nanoTime() + IDLE.toNanos() + 1);
		assertThatThrownBy(() -> read.get(10, TimeUnit.SECONDS)).cause()
			.isInstanceOf(IdleTimeoutInputStream.IdleTimeoutException.class);
	}

	@Test
	void aLendSilentForTheIdleTimeoutFailsAndTheBorrowersTimeDoesNotCount() throws Exception {
		// A plain body lends through a buffer of its own.
		try (IdleTimeoutInputStream body = IdleTimeoutInputStream
			.watch(LendingInput.of(new ByteArrayInputStream(new byte[] { 1, 2, 3 }), 2), this.sweeper, IDLE)) {
			assertThat(body.await()).isTrue();
			StringBuilder lent = new StringBuilder();
			assertThat(body.lendTo((bytes, offset, length) -> {
				// The borrower takes longer than the idle timeout to write what it got.
				this.sweeper.sweep(System.nanoTime() + 10 * IDLE.toNanos());
				for (int i = 0; i < length; i++) {
					lent.append(bytes[offset + i]);
				}
			})).isEqualTo(2);
			assertThat(body.read()).as("a read after a lend goes on from where it ended").isEqualTo(3);
			assertThat(body.lendTo((bytes, offset, length) -> lent.append('!'))).isEqualTo(-1);
			assertThat(body.await()).isFalse();
			assertThat(lent).hasToString("12");
		}
		Stalled stalled = new Stalled();
		IdleTimeoutInputStream body = IdleTimeoutInputStream.watch(LendingInput.of(stalled, 16), this.sweeper, IDLE);
		FutureTask<Integer> lend = new FutureTask<>(() -> body.lendTo((bytes, offset, length) -> {
		}));
		Thread.ofVirtual().start(lend);
		assertThat(stalled.reading.await(10, TimeUnit.SECONDS)).isTrue();
		this.sweeper.sweep(System.nanoTime() + IDLE.toNanos() + 1);
		assertThatThrownBy(() -> lend.get(10, TimeUnit.SECONDS)).cause()
			.isInstanceOf(IdleTimeoutInputStream.IdleTimeoutException.class);
		assertThat(stalled.closed).isTrue();
	}

	@Test
	void whatTheBorrowerThrowsPassesThroughAsItIs() throws Exception {
		try (IdleTimeoutInputStream body = IdleTimeoutInputStream
			.watch(LendingInput.of(new ByteArrayInputStream(new byte[] { 1, 2, 3 }), 8), this.sweeper, IDLE)) {
			IOException gone = new IOException("client gone");
			assertThatThrownBy(() -> body.lendTo((bytes, offset, length) -> {
				throw gone;
			})).isSameAs(gone);
			assertThat(body.read()).as("the lent bytes count as read").isEqualTo(-1);
		}
		try (IdleTimeoutInputStream body = IdleTimeoutInputStream.watch(new ByteArrayInputStream(new byte[1]),
				this.sweeper, IDLE)) {
			assertThatThrownBy(body::await).isInstanceOf(IllegalStateException.class)
				.hasMessage("the watched body does not lend its bytes");
		}
	}

	/** Reads on a thread of its own. */
	private static Future<Integer> reading(InputStream in) {
		FutureTask<Integer> read = new FutureTask<>(() -> in.read(new byte[8], 0, 8));
		Thread.ofVirtual().start(read);
		return read;
	}

	/** A body whose reads wait until it is closed, as a stalled endpoint's. */
	private static final class Stalled extends InputStream {

		private final CountDownLatch reading = new CountDownLatch(1);

		private final CountDownLatch closing = new CountDownLatch(1);

		private volatile boolean closed;

		@Override
		public int read() throws IOException {
			return read(new byte[1], 0, 1);
		}

		@Override
		public int read(byte[] b, int off, int len) throws IOException {
			this.reading.countDown();
			try {
				this.closing.await();
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
			throw new IOException("closed");
		}

		@Override
		public void close() {
			this.closed = true;
			this.closing.countDown();
		}

	}

}
