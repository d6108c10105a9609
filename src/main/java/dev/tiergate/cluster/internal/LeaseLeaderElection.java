package dev.tiergate.cluster.internal;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

import dev.tiergate.cluster.ClusterProperties;
import dev.tiergate.cluster.Leadership;
import dev.tiergate.replica.ReplicaIdentity;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoordinationV1Api;
import io.kubernetes.client.openapi.models.V1Lease;
import io.kubernetes.client.openapi.models.V1LeaseSpec;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;

/**
 * {@link Leadership} on a {@code coordination.k8s.io/v1} Lease, the loop client-go's
 * leader election runs: every {@code retryPeriod} the leader writes a new
 * {@code renewTime}; the others read the Lease and take it over once it has not changed
 * (by their own clock: they compare what they saw, never another replica's clock) for its
 * {@code leaseDurationSeconds}, or at once when it has no holder. Every write is a
 * replace at the resource version read, so of two replicas that try at once one gets 409
 * and stays a follower. A leader whose renewals have failed for {@code renewDeadline}
 * stops leading before anyone may take over ({@code renewDeadline < leaseDuration}). On
 * stop the leader stops leading, then empties the holder so that another replica takes
 * over at its next try.
 */
class LeaseLeaderElection implements Leadership, SmartLifecycle, MeterBinder {

	private static final Logger logger = LoggerFactory.getLogger(LeaseLeaderElection.class);

	private final CoordinationV1Api api;

	private final String namespace;

	private final String identity;

	private final ClusterProperties.LeaderElection settings;

	private final Clock clock;

	private volatile boolean leader;

	private volatile String holder;

	private String observedVersion;

	private Instant observedAt;

	private Instant renewedAt;

	private ScheduledExecutorService loop;

	private volatile boolean running;

	private Counter acquired;

	private Counter lost;

	LeaseLeaderElection(ApiClient client, String namespace, ReplicaIdentity identity,
			ClusterProperties.LeaderElection settings, Clock clock) {
		this.api = new CoordinationV1Api(client);
		this.namespace = namespace;
		this.identity = identity.name();
		this.settings = settings;
		this.clock = clock;
	}

	@Override
	public boolean isLeader() {
		return this.leader;
	}

	@Override
	public Optional<String> leader() {
		String current = this.holder;
		return (current == null || current.isEmpty()) ? Optional.empty() : Optional.of(current);
	}

	@Override
	public Duration retryAfter() {
		return this.settings.retryPeriod().compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1)
				: this.settings.retryPeriod();
	}

	/**
	 * One round: acquire, renew, or watch the holder. Runs on the election's thread (and
	 * once in {@link #start()}).
	 */
	synchronized void tick() {
		Instant now = this.clock.instant();
		try {
			V1Lease lease = read();
			if (lease == null) {
				create(now);
				return;
			}
			V1LeaseSpec spec = (lease.getSpec() != null) ? lease.getSpec() : new V1LeaseSpec();
			String version = lease.getMetadata().getResourceVersion();
			if (!Objects.equals(version, this.observedVersion)) {
				this.observedVersion = version;
				this.observedAt = now;
			}
			String current = spec.getHolderIdentity();
			this.holder = current;
			if (this.identity.equals(current)) {
				spec.renewTime(time(now));
				write(lease.spec(spec), now);
				return;
			}
			if (this.leader) {
				stepDown("replica " + current + " holds the Lease now");
			}
			Duration duration = (spec.getLeaseDurationSeconds() != null)
					? Duration.ofSeconds(spec.getLeaseDurationSeconds()) : this.settings.leaseDuration();
			boolean free = current == null || current.isEmpty();
			if (free || !now.isBefore(this.observedAt.plus(duration))) {
				int transitions = (spec.getLeaseTransitions() != null) ? spec.getLeaseTransitions() : 0;
				spec.holderIdentity(this.identity)
					.leaseDurationSeconds(seconds(this.settings.leaseDuration()))
					.acquireTime(time(now))
					.renewTime(time(now))
					.leaseTransitions(transitions + 1);
				write(lease.spec(spec), now);
			}
		}
		catch (ApiException ex) {
			if (ex.getCode() != 409) {
				logger.warn("Leader election: the Kubernetes API failed (HTTP {}): {}", ex.getCode(), ex.getMessage());
			}
		}
		catch (RuntimeException ex) {
			logger.warn("Leader election failed this round: {}", ex.toString());
		}
		finally {
			if (this.leader && !now.isBefore(this.renewedAt.plus(this.settings.renewDeadline()))) {
				stepDown("could not renew the Lease for " + this.settings.renewDeadline());
			}
		}
	}

	private V1Lease read() throws ApiException {
		try {
			return this.api.readNamespacedLease(this.settings.leaseName(), this.namespace).execute();
		}
		catch (ApiException ex) {
			if (ex.getCode() == 404) {
				return null;
			}
			throw ex;
		}
	}

	private void create(Instant now) throws ApiException {
		V1Lease lease = new V1Lease().apiVersion("coordination.k8s.io/v1")
			.kind("Lease")
			.metadata(new V1ObjectMeta().name(this.settings.leaseName()).namespace(this.namespace))
			.spec(new V1LeaseSpec().holderIdentity(this.identity)
				.leaseDurationSeconds(seconds(this.settings.leaseDuration()))
				.acquireTime(time(now))
				.renewTime(time(now))
				.leaseTransitions(0));
		V1Lease created = this.api.createNamespacedLease(this.namespace, lease).execute();
		this.observedVersion = created.getMetadata().getResourceVersion();
		this.observedAt = now;
		led(now);
	}

	private void write(V1Lease lease, Instant now) throws ApiException {
		lease.apiVersion("coordination.k8s.io/v1").kind("Lease");
		V1Lease written = this.api.replaceNamespacedLease(this.settings.leaseName(), this.namespace, lease).execute();
		this.observedVersion = written.getMetadata().getResourceVersion();
		this.observedAt = now;
		led(now);
	}

	private void led(Instant now) {
		this.renewedAt = now;
		this.holder = this.identity;
		if (!this.leader) {
			this.leader = true;
			if (this.acquired != null) {
				this.acquired.increment();
			}
			logger.info("Replica {} leads now (Lease {}/{})", this.identity, this.namespace, this.settings.leaseName());
		}
	}

	private void stepDown(String why) {
		this.leader = false;
		if (this.lost != null) {
			this.lost.increment();
		}
		logger.warn("Replica {} stopped leading: {}", this.identity, why);
	}

	/**
	 * Stops leading and empties the Lease's holder, so that another replica takes over at
	 * its next try instead of after the lease duration.
	 */
	synchronized void release() {
		if (!this.leader) {
			return;
		}
		stepDown("shutting down");
		try {
			V1Lease lease = read();
			if (lease != null && lease.getSpec() != null && this.identity.equals(lease.getSpec().getHolderIdentity())) {
				lease.getSpec().holderIdentity(null).renewTime(time(this.clock.instant()));
				lease.apiVersion("coordination.k8s.io/v1").kind("Lease");
				this.api.replaceNamespacedLease(this.settings.leaseName(), this.namespace, lease).execute();
				this.holder = null;
				logger.info("Replica {} released the Lease", this.identity);
			}
		}
		catch (ApiException | RuntimeException ex) {
			logger.warn("Could not release the Lease; another replica takes over after {}: {}",
					this.settings.leaseDuration(), ex.toString());
		}
	}

	private static OffsetDateTime time(Instant instant) {
		return instant.atOffset(ZoneOffset.UTC);
	}

	private static int seconds(Duration duration) {
		return (int) Math.max(1, (duration.toMillis() + 999) / 1000);
	}

	@Override
	public synchronized void start() {
		if (this.running) {
			return;
		}
		this.running = true;
		// A single replica leads as soon as it has started.
		tick();
		this.loop = Executors
			.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("tiergate-leader-election").daemon().factory());
		long period = this.settings.retryPeriod().toMillis();
		this.loop.scheduleWithFixedDelay(this::tick, period, period, TimeUnit.MILLISECONDS);
	}

	@Override
	public void stop() {
		ScheduledExecutorService current;
		synchronized (this) {
			if (!this.running) {
				return;
			}
			this.running = false;
			current = this.loop;
			this.loop = null;
		}
		current.shutdownNow();
		try {
			current.awaitTermination(5, TimeUnit.SECONDS);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		release();
	}

	@Override
	public boolean isRunning() {
		return this.running;
	}

	/**
	 * Stops the loop without releasing the Lease, as a killed process would: the Lease
	 * keeps this replica's name until another replica sees it unchanged for its duration.
	 * For tests of a leader that dies.
	 */
	void halt() {
		ScheduledExecutorService current;
		synchronized (this) {
			this.running = false;
			this.leader = false;
			current = this.loop;
			this.loop = null;
		}
		if (current != null) {
			current.shutdownNow();
		}
	}

	/**
	 * Late in the shutdown: after the web server's graceful shutdown and stop
	 * ({@code DEFAULT_PHASE - 1024} and {@code - 2048}), so that the requests it lets
	 * finish (cluster writes among them) still run on the leader.
	 * @return the phase
	 */
	@Override
	public int getPhase() {
		return SmartLifecycle.DEFAULT_PHASE - 3072;
	}

	@Override
	public void bindTo(MeterRegistry registry) {
		Gauge.builder("tiergate.leader", this, (e) -> e.isLeader() ? 1 : 0)
			.description("1 while this replica leads (holds the tiergate-leader Lease), else 0")
			.tag("replica", this.identity)
			.register(registry);
		this.acquired = Counter.builder("tiergate.leader.transitions")
			.description("Times this replica became or stopped being the leader")
			.tag("change", "acquired")
			.register(registry);
		this.lost = Counter.builder("tiergate.leader.transitions")
			.description("Times this replica became or stopped being the leader")
			.tag("change", "lost")
			.register(registry);
	}

}
