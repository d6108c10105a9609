package dev.tiergate.batch;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/**
 * The system clock moved forward by an offset a test sets: the application keeps running
 * in real time, and a test jumps it past a deadline (a batch's completion window) without
 * waiting.
 */
final class ShiftedClock extends Clock {

	private final Clock system = Clock.systemUTC();

	private volatile Duration offset = Duration.ZERO;

	void shift(Duration by) {
		this.offset = this.offset.plus(by);
	}

	@Override
	public ZoneId getZone() {
		return ZoneOffset.UTC;
	}

	@Override
	public Clock withZone(ZoneId zone) {
		return this;
	}

	@Override
	public Instant instant() {
		return this.system.instant().plus(this.offset);
	}

	@Override
	public long millis() {
		return this.system.millis() + this.offset.toMillis();
	}

}
