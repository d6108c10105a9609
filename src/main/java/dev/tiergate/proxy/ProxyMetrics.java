package dev.tiergate.proxy;

import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import dev.tiergate.tier.Tier;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * The proxy's meters, looked up once per tag combination rather than built on every
 * request.
 */
class ProxyMetrics {

	/** The {@code outcome} tag of each {@link ExchangeOutcome}, by ordinal. */
	private static final String[] OUTCOME_TAGS = new String[ExchangeOutcome.values().length];

	static {
		for (ExchangeOutcome outcome : ExchangeOutcome.values()) {
			OUTCOME_TAGS[outcome.ordinal()] = tag(outcome);
		}
	}

	private final MeterRegistry meters;

	private final Map<CounterKey, Counter> requests = new ConcurrentHashMap<>();

	private final Map<TimerKey, Timer> durations = new ConcurrentHashMap<>();

	private final Map<FirstByteKey, Timer> firstBytes = new ConcurrentHashMap<>();

	/** Buckets of the time to first byte, around the tiers' latency objectives. */
	private static final Duration[] FIRST_BYTE_BUCKETS = { Duration.ofMillis(50), Duration.ofMillis(100),
			Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(2),
			Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(60) };

	ProxyMetrics(MeterRegistry meters) {
		this.meters = meters;
	}

	/**
	 * The {@code outcome} tag of an exchange's outcome.
	 * @param outcome the outcome
	 * @return its name in lower case, whatever the default locale
	 */
	static String tag(ExchangeOutcome outcome) {
		return outcome.name().toLowerCase(Locale.ROOT);
	}

	/** Counts a request that ended with an exchange's outcome. */
	void count(String model, Tier tier, ExchangeOutcome outcome) {
		count(model, tier, OUTCOME_TAGS[outcome.ordinal()]);
	}

	/**
	 * Counts a request that ended otherwise (a rejection's code, a retry, an unknown
	 * model).
	 */
	void count(String model, Tier tier, String outcome) {
		this.requests
			.computeIfAbsent(new CounterKey(model, tier, outcome),
					(key) -> Counter.builder("tiergate.proxy.requests")
						.description("Requests by how they ended")
						.tag("model", key.model())
						.tag("priority", key.tier().name())
						.tag("outcome", key.outcome())
						.register(this.meters))
			.increment();
	}

	void duration(String model, Tier tier, boolean stream, Duration duration) {
		this.durations
			.computeIfAbsent(new TimerKey(model, tier, stream),
					(key) -> Timer.builder("tiergate.proxy.duration")
						.description("Time from request arrival to the end of the response")
						.tag("model", key.model())
						.tag("priority", key.tier().name())
						.tag("stream", Boolean.toString(key.stream()))
						.register(this.meters))
			.record(duration);
	}

	/**
	 * Records the time from a request's arrival to the first byte of its answer leaving
	 * for the client (queue wait included): the client's time to first token when it
	 * streams.
	 */
	void firstByte(String model, Tier tier, Duration timeToFirstByte) {
		this.firstBytes
			.computeIfAbsent(new FirstByteKey(model, tier),
					(key) -> Timer.builder("tiergate.proxy.first.byte")
						.description("Time from request arrival to the first byte of the answer (TTFT when streaming)")
						.tag("model", key.model())
						.tag("priority", key.tier().name())
						.serviceLevelObjectives(FIRST_BYTE_BUCKETS)
						.register(this.meters))
			.record(timeToFirstByte);
	}

	private record FirstByteKey(String model, Tier tier) {
	}

	private record CounterKey(String model, Tier tier, String outcome) {
	}

	private record TimerKey(String model, Tier tier, boolean stream) {
	}

}
