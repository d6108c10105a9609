package dev.tiergate.routing;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * Passive health of the endpoints, from what real requests meet: consecutive connect
 * errors, 5xx answers and broken streams eject an endpoint for a backoff that doubles
 * with each ejection; once it has passed, the endpoint is probed and takes requests again
 * when a probe succeeds. An ejection reaches the dispatcher as an endpoint change with
 * {@link Endpoint#accepting()} false, so the scheduler gives it no new lease. Also keeps
 * the per-model endpoint metrics: requests by outcome, ejections, requests in flight,
 * upstream latency.
 */
public class EndpointHealth implements EndpointRegistry.EndpointListener {

	private static final Logger logger = LoggerFactory.getLogger(EndpointHealth.class);

	/** Upstream latency histogram buckets. */
	static final Duration[] LATENCY_BUCKETS = { Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50),
			Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1),
			Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(30),
			Duration.ofSeconds(60), Duration.ofSeconds(120) };

	private final EndpointRegistry registry;

	private final RoutingProperties.Health properties;

	private final Clock clock;

	private final MeterRegistry meters;

	private final Map<String, ModelMeters> byModel = new ConcurrentHashMap<>();

	public EndpointHealth(EndpointRegistry registry, RoutingProperties.Health properties, Clock clock,
			MeterRegistry meters) {
		this.registry = registry;
		this.properties = properties;
		this.clock = clock;
		this.meters = meters;
		registry.addListener(this);
	}

	/** How a request on an endpoint ended, as far as the endpoint is concerned. */
	public enum Outcome {

		/** Answered (any status below 500). */
		SUCCESS("success", false),

		/** No connection, or the connection broke before the answer began. */
		CONNECT_ERROR("connect_error", true),

		/** A 5xx answer. */
		SERVER_ERROR("server_error", true),

		/** The stream broke after it had begun. */
		BROKEN_STREAM("broken_stream", true),

		/** The client went away (not the endpoint's fault). */
		CLIENT_GONE("client_gone", false),

		/** Preempted by a more urgent request (not the endpoint's fault). */
		PREEMPTED("preempted", false);

		private final String tag;

		private final boolean failure;

		Outcome(String tag, boolean failure) {
			this.tag = tag;
			this.failure = failure;
		}

		/**
		 * The {@code outcome} tag value.
		 * @return tag
		 */
		public String tag() {
			return this.tag;
		}

	}

	/**
	 * Records how a request on an endpoint ended; failures count towards ejection, a
	 * success resets the count.
	 * @param endpoint the endpoint
	 * @param outcome the outcome
	 * @param detail what happened, for operators (no request content)
	 */
	public void record(Endpoint endpoint, Outcome outcome, String detail) {
		meters(endpoint.model()).requests.get(outcome).increment();
		long now = nanos(this.clock);
		if (outcome == Outcome.SUCCESS) {
			synchronized (endpoint) {
				endpoint.consecutiveFailures = 0;
				if (endpoint.ejectionStreak > 0 && now - endpoint.readmittedAtNanos >= endpoint.lastBackoffNanos) {
					endpoint.ejectionStreak = 0;
				}
			}
			return;
		}
		if (!outcome.failure) {
			return;
		}
		endpoint.lastError(outcome.tag + ": " + detail, now);
		boolean ejected = false;
		synchronized (endpoint) {
			endpoint.consecutiveFailures++;
			if (endpoint.health() == Endpoint.Health.HEALTHY
					&& endpoint.consecutiveFailures >= this.properties.consecutiveFailures() && mayEject(endpoint)) {
				eject(endpoint, now);
				ejected = true;
			}
		}
		if (ejected) {
			meters(endpoint.model()).ejections.increment();
			logger.warn("Ejected endpoint {} after {} consecutive failures, until {}", endpoint.key(),
					endpoint.consecutiveFailures(), instant(endpoint.ejectedUntilNanos()));
			this.registry.changed(endpoint);
		}
	}

	/**
	 * Records the upstream latency of a request.
	 * @param model the model
	 * @param firstByte from sending to the first byte of the answer
	 * @param total from sending to the end of the answer
	 */
	public void recordLatency(String model, Duration firstByte, Duration total) {
		ModelMeters meters = meters(model);
		meters.firstByte.record(firstByte);
		meters.total.record(total);
	}

	private boolean mayEject(Endpoint endpoint) {
		List<Endpoint> pool = this.registry.pool(endpoint.model());
		long ejected = pool.stream().filter((e) -> e.health() == Endpoint.Health.EJECTED).count();
		long allowed = Math.max(1, pool.size() * this.properties.maxEjectionPercent() / 100);
		return ejected < allowed;
	}

	private void eject(Endpoint endpoint, long now) {
		endpoint.ejectionStreak++;
		long backoff = backoffNanos(endpoint.ejectionStreak);
		endpoint.lastBackoffNanos = backoff;
		endpoint.ejectedUntilNanos = now + backoff;
		endpoint.ejections++;
		endpoint.health(Endpoint.Health.EJECTED);
	}

	long backoffNanos(int streak) {
		long base = this.properties.baseEjection().toNanos();
		long max = this.properties.maxEjection().toNanos();
		int shift = Math.min(Math.max(0, streak - 1), 30);
		long backoff = base << shift;
		return (backoff <= 0 || backoff > max) ? max : backoff;
	}

	/**
	 * Ejected endpoints whose backoff has passed.
	 * @return endpoints to probe
	 */
	public List<Endpoint> dueForProbe() {
		long now = nanos(this.clock);
		return this.registry.endpoints()
			.stream()
			.filter((e) -> e.health() == Endpoint.Health.EJECTED && e.ejectedUntilNanos() <= now)
			.toList();
	}

	/**
	 * Records a probe of an ejected endpoint: success readmits it, failure ejects it
	 * again for a longer backoff.
	 * @param endpoint the endpoint
	 * @param ok whether the probe succeeded
	 * @param error why it failed, or {@code null}
	 */
	public void probed(Endpoint endpoint, boolean ok, String error) {
		long now = nanos(this.clock);
		synchronized (endpoint) {
			if (endpoint.health() != Endpoint.Health.EJECTED) {
				return;
			}
			if (ok) {
				endpoint.consecutiveFailures = 0;
				endpoint.readmittedAtNanos = now;
				endpoint.health(Endpoint.Health.HEALTHY);
			}
			else {
				endpoint.ejectionStreak++;
				long backoff = backoffNanos(endpoint.ejectionStreak);
				endpoint.lastBackoffNanos = backoff;
				endpoint.ejectedUntilNanos = now + backoff;
			}
		}
		if (ok) {
			logger.info("Endpoint {} answered its probe and takes requests again", endpoint.key());
			this.registry.changed(endpoint);
		}
		else {
			endpoint.lastError("probe: " + error, now);
		}
	}

	@Override
	public void upserted(Endpoint endpoint) {
		meters(endpoint.model());
	}

	@Override
	public void removed(Endpoint endpoint) {
		// meters stay: models are few and bounded by configuration of the cluster
	}

	private ModelMeters meters(String model) {
		return this.byModel.computeIfAbsent(model, (m) -> new ModelMeters(m, this.registry, this.meters));
	}

	static long nanos(Clock clock) {
		Instant instant = clock.instant();
		return instant.getEpochSecond() * 1_000_000_000L + instant.getNano();
	}

	static Instant instant(long epochNanos) {
		return Instant.ofEpochSecond(Math.floorDiv(epochNanos, 1_000_000_000L),
				Math.floorMod(epochNanos, 1_000_000_000L));
	}

	/** One model's meters (models are bounded; endpoints are not, so they are no tag). */
	private static final class ModelMeters {

		final Map<Outcome, Counter> requests = new java.util.EnumMap<>(Outcome.class);

		final Counter ejections;

		final Timer firstByte;

		final Timer total;

		ModelMeters(String model, EndpointRegistry registry, MeterRegistry meters) {
			for (Outcome outcome : Outcome.values()) {
				this.requests.put(outcome,
						Counter.builder("tiergate.endpoint.requests")
							.description("Requests sent to endpoints, by how they ended")
							.tag("model", model)
							.tag("outcome", outcome.tag)
							.register(meters));
			}
			this.ejections = Counter.builder("tiergate.endpoint.ejections")
				.description("Endpoints ejected by passive health")
				.tag("model", model)
				.register(meters);
			Gauge
				.builder("tiergate.endpoint.inflight", registry,
						(r) -> r.pool(model).stream().mapToInt(Endpoint::inFlight).sum())
				.description("Requests in flight on the model's endpoints through this replica")
				.tag("model", model)
				.register(meters);
			this.firstByte = Timer.builder("tiergate.endpoint.upstream.first.byte")
				.description("Time from sending a request to an endpoint to the first byte of its answer")
				.tag("model", model)
				.serviceLevelObjectives(LATENCY_BUCKETS)
				.register(meters);
			this.total = Timer.builder("tiergate.endpoint.upstream.duration")
				.description("Time from sending a request to an endpoint to the end of its answer")
				.tag("model", model)
				.serviceLevelObjectives(LATENCY_BUCKETS)
				.register(meters);
		}

	}

}
