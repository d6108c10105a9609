package dev.tiergate.replicas;

import java.io.IOException;
import java.net.ConnectException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.tiergate.EmbeddedDefaults;
import dev.tiergate.fleet.SimulatedGpuFleet;
import dev.tiergate.fleet.SimulatedInferenceServer;
import dev.tiergate.tier.Tier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A rolling restart of three replicas under steady load, the way a Deployment's
 * {@code RollingUpdate} does it: each old replica in turn is shut down as SIGTERM would
 * (its context closed: readiness down, {@code drain-delay} more serving, waiting requests
 * answered 503 {@code shutting_down} with {@code Retry-After}, running ones finish) and a
 * new one started in its place. The clients reach the replicas through a stand-in for the
 * Service: it polls each replica's {@code /readyz} every 100 ms and sends only to the
 * ready ones, like the endpoints controller. A client retries a request the replicas
 * answered {@code shutting_down} (it never started) on another replica. No request is
 * lost: every one ends 200 (streams with their {@code [DONE]}), no connection fails, no
 * simulated server is ever given more requests than its slots, and the new replicas own
 * every slot.
 */
class RollingRestartIntegrationTests {

	private static final Logger logger = LoggerFactory.getLogger(RollingRestartIntegrationTests.class);

	private static final int PODS = 3;

	private static final int SLOTS = 4;

	private static final String FLEET = "roll-" + UUID.randomUUID().toString().substring(0, 8);

	private static final HttpClient http = HttpClient.newBuilder()
		.version(HttpClient.Version.HTTP_1_1)
		.connectTimeout(Duration.ofSeconds(2))
		.executor(Executors.newVirtualThreadPerTaskExecutor())
		.build();

	private static SimulatedGpuFleet fleet;

	/** Every replica started, old and new; closed at the end if still open. */
	private static final List<Replica> started = new CopyOnWriteArrayList<>();

	/** The Service's endpoints: the replicas whose readiness is up. */
	private static final List<Replica> inRotation = new CopyOnWriteArrayList<>();

	/** The replicas the Service watches (an old one until it is gone). */
	private static final List<Replica> watched = new CopyOnWriteArrayList<>();

	@BeforeAll
	static void startFleet() {
		fleet = Replica.fleetOf(PODS, SLOTS);
	}

	@AfterAll
	static void stopAll() {
		started.stream().filter((replica) -> replica.context().isActive()).forEach((r) -> r.context().close());
		fleet.close();
	}

	private static Replica start(String id) {
		Replica replica = Replica.start(id, fleet, FLEET, PODS, "--tiergate.shutdown.drain-delay=1s",
				"--spring.lifecycle.timeout-per-shutdown-phase=20s",
				// As in ReplicasIntegrationTests: the simulated server learns of a
				// preempted non-streamed call only when it answers it.
				"--tiergate.dispatch.preemption-budget=0", "--tiergate.tiers.P0.max-queue-wait=15s",
				"--tiergate.tiers.P1.max-queue-wait=15s");
		started.add(replica);
		watched.add(replica);
		return replica;
	}

	/**
	 * The Service stand-in: a replica is in rotation while its {@code /readyz} is 200.
	 */
	private static void watchReadiness(AtomicBoolean running) {
		while (running.get()) {
			for (Replica replica : watched) {
				boolean ready = ready(replica);
				if (ready && !inRotation.contains(replica)) {
					inRotation.add(replica);
				}
				else if (!ready) {
					inRotation.remove(replica);
				}
			}
			try {
				Thread.sleep(100);
			}
			catch (InterruptedException ex) {
				return;
			}
		}
	}

	private static boolean ready(Replica replica) {
		try {
			HttpRequest request = HttpRequest.newBuilder(replica.uri("/readyz")).timeout(Duration.ofSeconds(1)).build();
			return http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
		}
		catch (IOException ex) {
			return false;
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return false;
		}
	}

	/** How one request ended, after its retries. */
	enum Outcome {

		/** 200, whole answer (a stream with its {@code [DONE]}). */
		SERVED,
		/** Another status than 200, or {@code shutting_down} retried too often. */
		REFUSED,
		/** The connection failed, or a stream ended without {@code [DONE]}. */
		LOST

	}

	private static final class Tally {

		final Map<String, AtomicInteger> outcomes = new ConcurrentHashMap<>();

		final AtomicLong shuttingDownRetries = new AtomicLong();

		final AtomicLong refusedConnectionRetries = new AtomicLong();

		final List<String> failures = new CopyOnWriteArrayList<>();

		void count(Tier tier, boolean stream, Outcome outcome) {
			this.outcomes.computeIfAbsent(tier + (stream ? "-stream " : " ") + outcome, (k) -> new AtomicInteger())
				.incrementAndGet();
		}

	}

	/** One request, retried on another replica while it was refused before it started. */
	private static void request(Tier tier, boolean stream, int maxTokens, String key, Tally tally) {
		for (int attempt = 0; attempt < 20; attempt++) {
			List<Replica> targets = List.copyOf(inRotation);
			if (targets.isEmpty()) {
				sleep(50);
				continue;
			}
			Replica replica = targets.get(Math.floorMod(attempt + (int) System.nanoTime(), targets.size()));
			HttpRequest request = HttpRequest.newBuilder(replica.uri("/v1/chat/completions"))
				.timeout(Duration.ofSeconds(60))
				.header("Authorization", "Bearer " + key)
				.header("Content-Type", "application/json")
				.header("X-Tiergate-Priority", tier.name())
				.POST(HttpRequest.BodyPublishers.ofString(
						"""
								{"model":"%s","messages":[{"role":"user","content":"A rolling restart"}],"max_tokens":%d,"stream":%b}"""
							.formatted(Replica.MODEL, maxTokens, stream)))
				.build();
			if (!inRotation.contains(replica)) {
				// The Service dropped it since the pick: it would not route there.
				continue;
			}
			java.time.Instant sentAt = java.time.Instant.now();
			try {
				HttpResponse<Stream<String>> response = http.send(request, HttpResponse.BodyHandlers.ofLines());
				if (response.statusCode() == 503) {
					String body = String.join("\n", response.body().toList());
					if (body.contains("shutting_down") && response.headers().firstValue("Retry-After").isPresent()) {
						tally.shuttingDownRetries.incrementAndGet();
						sleep(100);
						continue;
					}
					tally.failures.add(tier + " 503 " + body);
					tally.count(tier, stream, Outcome.REFUSED);
					return;
				}
				List<String> lines = response.body().toList();
				if (response.statusCode() != 200) {
					tally.failures.add(tier + " " + response.statusCode() + " " + String.join("\n", lines));
					tally.count(tier, stream, Outcome.REFUSED);
					return;
				}
				boolean whole = stream ? lines.contains("data: [DONE]")
						: String.join("", lines).contains("\"finish_reason\"");
				if (!whole) {
					tally.failures.add(tier + " answer cut: " + String.join("\n", lines));
				}
				tally.count(tier, stream, whole ? Outcome.SERVED : Outcome.LOST);
				return;
			}
			catch (ConnectException ex) {
				// Refused before anything was sent: the replica's port is closed.
				tally.refusedConnectionRetries.incrementAndGet();
			}
			catch (IOException ex) {
				tally.failures.add(tier + (stream ? " stream" : "") + " on " + replica.id() + " sent at " + sentAt
						+ ", failed at " + java.time.Instant.now() + ": " + ex);
				tally.count(tier, stream, Outcome.LOST);
				return;
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				return;
			}
		}
		tally.failures.add(tier + " refused 20 times");
		tally.count(tier, stream, Outcome.REFUSED);
	}

	private static void sleep(long millis) {
		try {
			Thread.sleep(millis);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	@Test
	void aRollingRestartOfThreeReplicasUnderSteadyLoadLosesNoRequest() throws Exception {
		List<Replica> old = new ArrayList<>(List.of(start("roll-a"), start("roll-b"), start("roll-c")));
		AtomicBoolean running = new AtomicBoolean(true);
		Thread service = Thread.ofPlatform().daemon().name("service-stand-in").start(() -> watchReadiness(running));
		await().atMost(Duration.ofSeconds(20))
			.until(() -> inRotation.size() == 3 && old.stream().mapToInt(Replica::owned).sum() == PODS * SLOTS);
		fleet.servers(Replica.MODEL).forEach(SimulatedInferenceServer::resetPeak);

		Tally tally = new Tally();
		AtomicBoolean loading = new AtomicBoolean(true);
		AtomicInteger sent = new AtomicInteger();
		try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
			// Steady load, open loop: a P0, P1 (streamed) or P2 request every 25 ms
			// (40/s),
			// the mix fixed by the seed, and 16 P2 clients one request after another
			// each, so that requests wait for slots when a replica goes.
			Future<?> paced = clients.submit(() -> {
				Random random = new Random(20261130L);
				long next = System.nanoTime();
				while (loading.get()) {
					int pick = random.nextInt(10);
					Tier tier = (pick < 4) ? Tier.P0 : (pick < 7) ? Tier.P1 : Tier.P2;
					boolean stream = tier == Tier.P1;
					String key = (tier == Tier.P2) ? EmbeddedDefaults.BATCHCO_KEY : EmbeddedDefaults.ACME_KEY;
					int maxTokens = 8 + random.nextInt(24);
					sent.incrementAndGet();
					clients.submit(() -> request(tier, stream, maxTokens, key, tally));
					next += 25_000_000L;
					long wait = next - System.nanoTime();
					if (wait > 0) {
						Thread.sleep(wait / 1_000_000L, (int) (wait % 1_000_000L));
					}
				}
				return null;
			});
			List<Future<?>> closedLoop = new ArrayList<>();
			for (int i = 0; i < 16; i++) {
				closedLoop.add(clients.submit(() -> {
					while (loading.get()) {
						sent.incrementAndGet();
						request(Tier.P2, false, 48, EmbeddedDefaults.BATCHCO_KEY, tally);
					}
				}));
			}
			Thread.sleep(1000);
			String[] newIds = { "roll-a2", "roll-b2", "roll-c2" };
			for (int i = 0; i < old.size(); i++) {
				Replica going = old.get(i);
				// SIGTERM: the context closes (what the JVM's shutdown hook does).
				logger.info("Rolling restart: closing {}", going.id());
				going.context().close();
				watched.remove(going);
				inRotation.remove(going);
				Replica next = start(newIds[i]);
				await().atMost(Duration.ofSeconds(20)).until(() -> inRotation.contains(next));
				Thread.sleep(500);
			}
			Thread.sleep(1000);
			loading.set(false);
			paced.get();
			for (Future<?> future : closedLoop) {
				future.get();
			}
		}
		running.set(false);
		service.join();

		List<Replica> current = List.copyOf(watched);
		await().atMost(Duration.ofSeconds(20))
			.until(() -> current.stream().mapToInt(Replica::owned).sum() == PODS * SLOTS);
		int served = tally.outcomes.entrySet()
			.stream()
			.filter((entry) -> entry.getKey().endsWith(Outcome.SERVED.name()))
			.mapToInt((entry) -> entry.getValue().get())
			.sum();
		assertThat(tally.failures).as("requests lost or refused (outcomes %s)", tally.outcomes).isEmpty();
		assertThat(served).as("requests served").isEqualTo(sent.get()).isGreaterThan(500);
		assertThat(tally.outcomes.keySet()).as("every kind of request was sent")
			.contains("P0 SERVED", "P1-stream SERVED", "P2 SERVED");
		for (SimulatedInferenceServer server : fleet.servers(Replica.MODEL)) {
			assertThat(server.peakActive()).as("requests at once at the server on port %d", server.port())
				.isLessThanOrEqualTo(SLOTS);
		}
		logger.info("Rolling restart: {} served, {} retried after shutting_down, {} after a refused connection", served,
				tally.shuttingDownRetries.get(), tally.refusedConnectionRetries.get());
	}

}
