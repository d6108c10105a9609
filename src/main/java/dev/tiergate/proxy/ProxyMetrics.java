package dev.tiergate.proxy;

import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.IntFunction;

import dev.tiergate.tier.Tier;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * The proxy's meters, looked up once per tag combination rather than built on every
 * request: one map lookup by the model's name per call, then arrays by tier and by
 * outcome (three maps keyed by records, one per meter, were 2.3% of the front door's
 * samples at the maximum rate, mostly the records' hashing and equality,
 * docs/benchmarks.md).
 */
class ProxyMetrics {

	private static final Tier[] TIERS = Tier.values();

	private static final ExchangeOutcome[] OUTCOMES = ExchangeOutcome.values();

	/**
	 * The {@code outcome} tag of each {@link ExchangeOutcome}: its name in lower case.
	 */
	private static final String[] OUTCOME_TAGS = new String[OUTCOMES.length];

	static {
		for (ExchangeOutcome outcome : OUTCOMES) {
			OUTCOME_TAGS[outcome.ordinal()] = tag(outcome);
		}
	}

	/** Buckets of the time to first byte, around the tiers' latency objectives. */
	private static final Duration[] FIRST_BYTE_BUCKETS = { Duration.ofMillis(50), Duration.ofMillis(100),
			Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(2),
			Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(60) };

	private final MeterRegistry meters;

	private final Map<String, ModelMeters> models = new ConcurrentHashMap<>();

	ProxyMetrics(MeterRegistry meters) {
		this.meters = meters;
	}

	/**
	 * The {@code outcome} tag of an exchange's outcome.
	 * @param outcome the outcome
	 * @return its name in lower case
	 */
	static String tag(ExchangeOutcome outcome) {
		return outcome.name().toLowerCase(Locale.ROOT);
	}

	/** Counts a request that ended with an exchange's outcome. */
	void count(String model, Tier tier, ExchangeOutcome outcome) {
		of(model).ended.get(tier.ordinal() * OUTCOMES.length + outcome.ordinal()).increment();
	}

	/**
	 * Counts a request that ended otherwise (a rejection's code, a retry, an unknown
	 * model).
	 */
	void count(String model, Tier tier, String outcome) {
		ModelMeters meters = of(model);
		Slots<Counter> byTier = meters.other.get(outcome);
		if (byTier == null) {
			byTier = meters.other.computeIfAbsent(outcome, (name) -> meters.counters(name));
		}
		byTier.get(tier.ordinal()).increment();
	}

	void duration(String model, Tier tier, boolean stream, Duration duration) {
		of(model).durations.get(tier.ordinal() * 2 + (stream ? 1 : 0)).record(duration);
	}

	/**
	 * Records the time from a request's arrival to the first byte of its answer leaving
	 * for the client (queue wait included): the client's time to first token when it
	 * streams.
	 */
	void firstByte(String model, Tier tier, Duration timeToFirstByte) {
		of(model).firstBytes.get(tier.ordinal()).record(timeToFirstByte);
	}

	private ModelMeters of(String model) {
		ModelMeters found = this.models.get(model);
		return (found != null) ? found : this.models.computeIfAbsent(model, ModelMeters::new);
	}

	/**
	 * Meters registered on first use. Two threads may both register one; the registry
	 * gives both the same meter.
	 */
	private static final class Slots<M> {

		private final AtomicReferenceArray<M> meters;

		private final IntFunction<M> register;

		Slots(int size, IntFunction<M> register) {
			this.meters = new AtomicReferenceArray<>(size);
			this.register = register;
		}

		M get(int index) {
			M meter = this.meters.get(index);
			if (meter == null) {
				meter = this.register.apply(index);
				this.meters.set(index, meter);
			}
			return meter;
		}

	}

	/** One model's meters. */
	private final class ModelMeters {

		private final String model;

		/** By tier, then outcome. */
		private final Slots<Counter> ended;

		/** By tier, then not streamed or streamed. */
		private final Slots<Timer> durations;

		/** By tier. */
		private final Slots<Timer> firstBytes;

		/** By outcome tag, then tier. */
		private final Map<String, Slots<Counter>> other = new ConcurrentHashMap<>();

		ModelMeters(String model) {
			this.model = model;
			this.ended = new Slots<>(TIERS.length * OUTCOMES.length,
					(index) -> counter(TIERS[index / OUTCOMES.length], OUTCOME_TAGS[index % OUTCOMES.length]));
			this.durations = new Slots<>(TIERS.length * 2,
					(index) -> Timer.builder("tiergate.proxy.duration")
						.description("Time from request arrival to the end of the response")
						.tag("model", model)
						.tag("priority", TIERS[index / 2].name())
						.tag("stream", Boolean.toString(index % 2 == 1))
						.register(ProxyMetrics.this.meters));
			this.firstBytes = new Slots<>(TIERS.length,
					(index) -> Timer.builder("tiergate.proxy.first.byte")
						.description("Time from request arrival to the first byte of the answer (TTFT when streaming)")
						.tag("model", model)
						.tag("priority", TIERS[index].name())
						.serviceLevelObjectives(FIRST_BYTE_BUCKETS)
						.register(ProxyMetrics.this.meters));
		}

		Slots<Counter> counters(String outcome) {
			return new Slots<>(TIERS.length, (index) -> counter(TIERS[index], outcome));
		}

		private Counter counter(Tier tier, String outcome) {
			return Counter.builder("tiergate.proxy.requests")
				.description("Requests by how they ended")
				.tag("model", this.model)
				.tag("priority", tier.name())
				.tag("outcome", outcome)
				.register(ProxyMetrics.this.meters);
		}

	}

}
