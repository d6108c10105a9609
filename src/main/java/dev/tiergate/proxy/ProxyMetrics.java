package dev.tiergate.proxy;

import java.time.Duration;
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

	private final MeterRegistry meters;

	private final Map<CounterKey, Counter> requests = new ConcurrentHashMap<>();

	private final Map<TimerKey, Timer> durations = new ConcurrentHashMap<>();

	ProxyMetrics(MeterRegistry meters) {
		this.meters = meters;
	}

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

	private record CounterKey(String model, Tier tier, String outcome) {
	}

	private record TimerKey(String model, Tier tier, boolean stream) {
	}

}
