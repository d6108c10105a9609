package dev.tiergate;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.TestPropertySource;

import dev.tiergate.dispatch.DispatchRuntime;
import dev.tiergate.dispatch.PoolSnapshot;
import dev.tiergate.fleet.SimulatedGpuFleet;
import dev.tiergate.fleet.SimulatedInferenceServer;
import dev.tiergate.quota.QuotaService;
import dev.tiergate.routing.EndpointRegistry;
import dev.tiergate.tier.Tier;
import dev.tiergate.tier.Tiers;
import io.micrometer.core.instrument.MeterRegistry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The request path under everything at once: 500 concurrent requests of all tiers,
 * streamed or not, on both pools, while the quota store (a {@code redis-server} of the
 * test's own) is frozen for three seconds and released, a pod stalls after its headers,
 * and a fifth of the clients leave at a random moment. Afterwards every slot, quota
 * lease, journaled settlement and queue is back to zero, no request waited past its
 * tier's deadline plus one second, and no answer was a 500.
 */
@DirtiesContext
@TestPropertySource(properties = { "tiergate.proxy.upstream-idle-timeout=2s", "tiergate.quota.lease-ttl=6s" })
class RequestPathChaosIntegrationTests extends FleetIntegrationTestSupport {

	private static final int REQUESTS = 500;

	private static final Pattern CODE = Pattern.compile("\"code\"\\s*:\\s*\"([a-z_]+)\"");

	private static RedisProcess redis;

	@Autowired
	private DispatchRuntime dispatcher;

	@Autowired
	private EndpointRegistry registry;

	@Autowired
	private QuotaService quota;

	@Autowired
	private MeterRegistry meters;

	@Autowired
	private Tiers tiers;

	@DynamicPropertySource
	static void ownRedis(DynamicPropertyRegistry registry) throws Exception {
		redis = new RedisProcess();
		redis.start();
		registry.add("spring.data.redis.port", () -> redis.port);
		// Frozen on purpose: the production command timeout.
		registry.add("spring.data.redis.timeout", () -> "500ms");
	}

	@AfterAll
	static void stopRedis() {
		redis.kill();
	}

	/**
	 * What one client saw.
	 *
	 * @param tier its tier
	 * @param leaves whether it left before its answer (then nothing else is known)
	 * @param status the status, or -1 when the client failed
	 * @param millis from sending to the end of the answer
	 * @param queueMillis {@code x-tiergate-queue-ms} (its time in line), or -1
	 * @param code the error code, or {@code null}
	 */
	record Outcome(Tier tier, boolean leaves, int status, long millis, long queueMillis, String code) {
	}

	@Test
	void fiveHundredMixedRequestsThroughAFrozenRedisAStalledPodAndLeavingClientsLeaveNothingBehind() throws Exception {
		await().atMost(Duration.ofSeconds(10))
			.until(() -> this.registry.pool(SimulatedGpuFleet.LLAMA).size() == 20
					&& this.registry.pool(SimulatedGpuFleet.QWEN).size() == 4);
		for (Tier tier : Tier.values()) {
			assertThat(call(tier, SimulatedGpuFleet.LLAMA, false, 4).status()).isEqualTo(200);
		}
		SimulatedInferenceServer stalling = fleet().servers(SimulatedGpuFleet.LLAMA).get(0);
		long stalledBefore = stalling.stalled();
		stalling.stallNextRequests(4);
		Random random = new Random(14);
		CountDownLatch go = new CountDownLatch(1);
		List<Future<Outcome>> futures = new ArrayList<>();
		try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
			for (int i = 0; i < REQUESTS; i++) {
				Tier tier = Tier.values()[random.nextInt(3)];
				String model = (random.nextInt(10) < 7) ? SimulatedGpuFleet.LLAMA : SimulatedGpuFleet.QWEN;
				boolean stream = random.nextBoolean();
				boolean leaves = random.nextInt(5) == 0;
				int maxTokens = leaves ? 200 + random.nextInt(200) : 8 + random.nextInt(56);
				long leaveAfter = 50 + random.nextInt(2000);
				// They arrive within a second (more at one instant than Tomcat's accept
				// backlog of 100 would only measure the kernel's SYN retries).
				long arriveAfter = random.nextInt(1000);
				futures.add(clients.submit(() -> {
					go.await();
					arrival(arriveAfter);
					return leaves ? leave(tier, model, stream, maxTokens, leaveAfter)
							: call(tier, model, stream, maxTokens);
				}));
			}
			// Meanwhile the longest wait in line of each tier is sampled: a wait past the
			// deadline would show for its last second.
			AtomicBoolean running = new AtomicBoolean(true);
			long[] longestWait = new long[Tier.values().length];
			Future<?> sampler = clients.submit(() -> {
				while (running.get()) {
					for (PoolSnapshot pool : this.dispatcher.snapshots()) {
						pool.tiers()
							.forEach((tier, state) -> longestWait[tier.ordinal()] = Math
								.max(longestWait[tier.ordinal()], state.oldestWaitNanos()));
					}
					LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
				}
			});
			go.countDown();
			// Redis freezes while the requests arrive, for three seconds.
			CompletableFuture<Void> outage = CompletableFuture
				.runAsync(() -> signal("STOP"), CompletableFuture.delayedExecutor(300, TimeUnit.MILLISECONDS, clients))
				.thenRunAsync(() -> signal("CONT"), CompletableFuture.delayedExecutor(3, TimeUnit.SECONDS, clients));
			List<Outcome> outcomes = new ArrayList<>();
			for (Future<Outcome> future : futures) {
				outcomes.add(future.get(90, TimeUnit.SECONDS));
			}
			outage.get(10, TimeUnit.SECONDS);
			running.set(false);
			sampler.get(5, TimeUnit.SECONDS);
			assertOutcomes(outcomes);
			for (Tier tier : Tier.values()) {
				assertThat(Duration.ofNanos(longestWait[tier.ordinal()])).as("longest wait in line of %s", tier)
					.isLessThanOrEqualTo(this.tiers.get(tier).maxQueueWait().plusSeconds(1));
			}
		}
		finally {
			stalling.stallNextRequests(0);
			signal("CONT");
		}
		assertThat(stalling.stalled() - stalledBefore).as("the pod stalled").isPositive();
		assertThat(this.meters.get("tiergate.quota.backend.errors").counter().count()).as("Redis froze").isPositive();
		assertThat(this.meters.get("tiergate.proxy.requests")
			.tag("outcome", "client_gone")
			.counters()
			.stream()
			.mapToDouble((counter) -> counter.count())
			.sum()).as("clients left mid-request").isPositive();
		// Nothing is left behind: slots, queues, endpoint counts, quota leases, the
		// journal.
		await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
			assertThat(this.dispatcher.snapshots()).allSatisfy((PoolSnapshot pool) -> {
				assertThat(pool.used()).as("%s slots in use", pool.pool()).isZero();
				assertThat(pool.queued()).as("%s queued", pool.pool()).isZero();
			});
			assertThat(this.registry.inFlight()).isZero();
			assertThat(this.quota.status("acme").inFlight()).as("quota leases").isZero();
			assertThat(this.meters.get("tiergate.quota.journal.size").gauge().value()).as("journal").isZero();
			assertThat(this.quota.mode()).isEqualTo("redis");
		});
	}

	private void assertOutcomes(List<Outcome> outcomes) {
		List<Outcome> stayed = outcomes.stream().filter((outcome) -> !outcome.leaves()).toList();
		assertThat(stayed).isNotEmpty()
			.allSatisfy((outcome) -> assertThat(outcome.status()).as("%s", outcome).isIn(200, 429, 502, 503));
		assertThat(stayed).as("served").anySatisfy((outcome) -> assertThat(outcome.status()).isEqualTo(200));
	}

	private Outcome call(Tier tier, String model, boolean stream, int maxTokens) {
		long start = System.nanoTime();
		try {
			HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri("/v1/chat/completions"))
				.timeout(Duration.ofSeconds(60))
				.header("Authorization", "Bearer " + EmbeddedDefaults.ACME_KEY)
				.header("Content-Type", "application/json")
				.header("X-Tiergate-Priority", tier.name())
				.POST(HttpRequest.BodyPublishers.ofString(body(model, stream, maxTokens)))
				.build(), HttpResponse.BodyHandlers.ofString());
			Matcher code = CODE.matcher((response.statusCode() >= 400) ? response.body() : "");
			return new Outcome(tier, false, response.statusCode(), (System.nanoTime() - start) / 1_000_000,
					response.headers().firstValueAsLong("x-tiergate-queue-ms").orElse(-1),
					code.find() ? code.group(1) : null);
		}
		catch (Exception ex) {
			return new Outcome(tier, false, -1, (System.nanoTime() - start) / 1_000_000, -1, ex.toString());
		}
	}

	/** A client that sends its request and closes its connection a while later. */
	private Outcome leave(Tier tier, String model, boolean stream, int maxTokens, long afterMillis) throws Exception {
		byte[] body = body(model, stream, maxTokens).getBytes(StandardCharsets.UTF_8);
		try (Socket socket = new Socket("127.0.0.1", this.port)) {
			OutputStream out = socket.getOutputStream();
			out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
					+ EmbeddedDefaults.ACME_KEY + "\r\nX-Tiergate-Priority: " + tier.name()
					+ "\r\nContent-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n")
				.getBytes(StandardCharsets.US_ASCII));
			out.write(body);
			out.flush();
			// Reads whatever comes until its patience runs out, then leaves.
			socket.setSoTimeout((int) afterMillis);
			InputStream in = socket.getInputStream();
			byte[] buffer = new byte[8192];
			long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(afterMillis);
			try {
				while (System.nanoTime() < end && in.read(buffer) >= 0) {
					// discard
				}
			}
			catch (SocketTimeoutException ex) {
				// patience ran out
			}
		}
		return new Outcome(tier, true, -1, afterMillis, -1, null);
	}

	private static void arrival(long afterMillis) {
		LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(afterMillis));
	}

	private static String body(String model, boolean stream, int maxTokens) {
		return "{\"model\":\"" + model + "\",\"stream\":" + stream + ",\"max_tokens\":" + maxTokens
				+ ",\"messages\":[{\"role\":\"user\",\"content\":\"Tell me about GPUs\"}]}";
	}

	private static void signal(String signal) {
		try {
			redis.signal(signal);
		}
		catch (Exception ex) {
			throw new IllegalStateException(ex);
		}
	}

}
