package dev.tiergate.replicas;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.data.redis.core.StringRedisTemplate;

import dev.tiergate.EmbeddedDefaults;
import dev.tiergate.FleetIntegrationTestSupport;
import dev.tiergate.LocalRedis;
import dev.tiergate.TiergateApplication;
import dev.tiergate.cost.GpuProfile;
import dev.tiergate.cost.GpuServiceTimeModel;
import dev.tiergate.cost.ModelProfile;
import dev.tiergate.cost.SliceShare;
import dev.tiergate.fleet.SimulatedGpuFleet;
import dev.tiergate.fleet.SimulatedInferenceServer;
import dev.tiergate.quota.Limits;
import dev.tiergate.quota.Tenant;
import dev.tiergate.quota.TenantStore;
import dev.tiergate.routing.EndpointRegistry;
import dev.tiergate.tier.Tier;
import io.micrometer.core.instrument.MeterRegistry;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Several Tiergate replicas (separate application contexts in this JVM, each with its own
 * {@code tiergate.replica.id}) against one Redis, one Kubernetes API stand-in and one
 * simulated fleet of their own (three pods of four slots): under mixed P0/P2 load, no
 * simulated server ever has more requests at once than its slots (counted at the server),
 * nor does the ledger in Redis ever hold more of an endpoint than its slots; P0's reserve
 * follows P0's demand across the fleet; a tenant's quota holds across replicas; a replica
 * that dies (its heartbeat stops, it starts nothing more, its context closes) has its
 * slots taken by the others once its heartbeat expired. The fleet name is new per run, so
 * no other replica on the same Redis takes part.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReplicasIntegrationTests {

	private static final int PODS = 3;

	private static final int SLOTS = 4;

	private static final String MODEL = Replica.MODEL;

	private static final String FLEET = "it-" + UUID.randomUUID().toString().substring(0, 8);

	private static final JsonMapper json = JsonMapper.builder().build();

	private static final HttpClient http = HttpClient.newBuilder()
		.version(HttpClient.Version.HTTP_1_1)
		.executor(Executors.newVirtualThreadPerTaskExecutor())
		.build();

	private static SimulatedGpuFleet fleet;

	private static final List<Replica> apps = new ArrayList<>();

	/** Set by the ledger watcher when it saw an endpoint held beyond its slots. */
	private static final List<String> overHeld = new java.util.concurrent.CopyOnWriteArrayList<>();

	private static final AtomicBoolean watching = new AtomicBoolean();

	private static Thread watcher;

	@BeforeAll
	static void startFleet() {
		fleet = Replica.fleetOf(PODS, SLOTS);
		watching.set(true);
		watcher = Thread.ofPlatform().daemon().name("ledger-watcher").start(ReplicasIntegrationTests::watchLedger);
	}

	/**
	 * Starts a replica without preemption: a preempted call's abort reaches the simulated
	 * server only when it finishes a non-streamed answer (it does not notice a client
	 * gone), and would count there beside the call that took its slot; preemption's own
	 * ordering is PreemptionAbortTests' subject. P0 may wait 15 s: the reserve and the
	 * slots are under test here, not P0's wait (a P0 request may wait for a P2 lease on
	 * another replica to end).
	 */
	private static Replica start(String id) {
		return Replica.start(id, fleet, FLEET, PODS, "--tiergate.dispatch.preemption-budget=0",
				"--tiergate.tiers.P0.max-queue-wait=15s");
	}

	@AfterAll
	static void stopAll() throws InterruptedException {
		watching.set(false);
		watcher.join();
		apps.forEach((app) -> app.context().close());
		fleet.close();
	}

	/**
	 * Every live replica's holdings, read in one script so that the sums are of one
	 * moment (reads key by key would mix one replica's old holdings with another's new).
	 */
	@SuppressWarnings("rawtypes")
	private static final org.springframework.data.redis.core.script.RedisScript<List> HOLDINGS = new org.springframework.data.redis.core.script.DefaultRedisScript<>(
			"""
					local out = {}
					for _, name in ipairs(redis.call('SMEMBERS', ARGV[1] .. 'members')) do
					  if redis.call('EXISTS', ARGV[1] .. 'alive:' .. name) == 1 then
					    local pairs = redis.call('HGETALL', ARGV[1] .. 'held:' .. name)
					    for i = 1, #pairs do out[#out + 1] = pairs[i] end
					  end
					end
					return out""", List.class);

	/** Polls the ledger: no endpoint is ever held beyond its slots by live replicas. */
	private static void watchLedger() {
		StringRedisTemplate redis = LocalRedis.template();
		String prefix = "tg:replicas:{" + FLEET + "}:";
		while (watching.get()) {
			List<?> pairs = redis.execute(HOLDINGS, List.of(), prefix);
			Map<String, Integer> sums = new java.util.HashMap<>();
			for (int i = 0; pairs != null && i + 1 < pairs.size(); i += 2) {
				sums.merge((String) pairs.get(i), Integer.parseInt((String) pairs.get(i + 1)), Integer::sum);
			}
			sums.forEach((endpoint, held) -> {
				if (held > SLOTS) {
					overHeld.add(endpoint + " held " + held);
				}
			});
			try {
				Thread.sleep(20);
			}
			catch (InterruptedException ex) {
				return;
			}
		}
	}

	private static int ownedByAll(List<Replica> live) {
		return live.stream().mapToInt(Replica::owned).sum();
	}

	private static List<SimulatedInferenceServer> servers() {
		return fleet.servers(MODEL);
	}

	/** Requests of one tier from {@code workers} clients, one after another each. */
	private static Future<Map<Integer, Integer>> load(ExecutorService executor, List<Replica> targets, String key,
			Tier tier, int workers, int perWorker, int maxTokens) {
		return executor.submit(() -> {
			Map<Integer, Integer> statuses = new ConcurrentHashMap<>();
			List<Future<?>> running = new ArrayList<>();
			AtomicInteger turn = new AtomicInteger();
			for (int w = 0; w < workers; w++) {
				running.add(executor.submit(() -> {
					for (int i = 0; i < perWorker; i++) {
						Replica app = targets.get(Math.floorMod(turn.getAndIncrement(), targets.size()));
						int status = chat(app, key, tier, maxTokens);
						statuses.merge(status, 1, Integer::sum);
					}
					return null;
				}));
			}
			for (Future<?> future : running) {
				future.get();
			}
			return statuses;
		});
	}

	private static int chat(Replica app, String key, Tier tier, int maxTokens) {
		HttpRequest request = HttpRequest.newBuilder(app.uri("/v1/chat/completions"))
			.timeout(Duration.ofSeconds(60))
			.header("Authorization", "Bearer " + key)
			.header("Content-Type", "application/json")
			.header("X-Tiergate-Priority", tier.name())
			.POST(HttpRequest.BodyPublishers.ofString("""
					{"model":"%s","messages":[{"role":"user","content":"Slots across replicas"}],"max_tokens":%d}"""
				.formatted(MODEL, maxTokens)))
			.build();
		try {
			return http.send(request, HttpResponse.BodyHandlers.ofString()).statusCode();
		}
		catch (Exception ex) {
			return -1;
		}
	}

	private static void assertNoServerOverloaded() {
		for (SimulatedInferenceServer server : servers()) {
			assertThat(server.peakActive()).as("requests at once at the server on port %d", server.port())
				.isLessThanOrEqualTo(SLOTS);
		}
		assertThat(overHeld).as("endpoints held beyond their slots in the ledger").isEmpty();
	}

	@Test
	@Order(1)
	void twoReplicasDivideEverySlotAndNeverOverloadAServer() throws Exception {
		apps.add(start("replica-a"));
		apps.add(start("replica-b"));
		List<Replica> live = List.copyOf(apps);
		await().atMost(Duration.ofSeconds(20)).until(() -> ownedByAll(live) == PODS * SLOTS);
		assertThat(live).allSatisfy((app) -> assertThat(app.owned()).isGreaterThanOrEqualTo(1));

		HttpResponse<String> view = http.send(HttpRequest.newBuilder(live.get(0).uri("/api/v1/replicas"))
			.header("Authorization", FleetIntegrationTestSupport.basic("admin", "admin"))
			.build(), HttpResponse.BodyHandlers.ofString());
		assertThat(view.statusCode()).isEqualTo(200);
		JsonNode fleetView = json.readTree(view.body());
		assertThat(fleetView.get("sharing").asBoolean()).isTrue();
		assertThat(fleetView.get("replicas")).hasSize(2);
		int listed = 0;
		for (JsonNode replica : fleetView.get("replicas")) {
			listed += replica.get("pools").get(MODEL).get("ownedSlots").asInt();
			assertThat(replica.get("heartbeatAgeMillis").asLong()).isBetween(0L, 2000L);
		}
		assertThat(listed).isEqualTo(PODS * SLOTS);
		HttpResponse<String> anonymous = http.send(HttpRequest.newBuilder(live.get(0).uri("/api/v1/replicas")).build(),
				HttpResponse.BodyHandlers.ofString());
		assertThat(anonymous.statusCode()).isEqualTo(401);

		servers().forEach(SimulatedInferenceServer::resetPeak);
		try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
			Future<Map<Integer, Integer>> p2 = load(executor, live, EmbeddedDefaults.BATCHCO_KEY, Tier.P2, 24, 12, 48);
			Future<Map<Integer, Integer>> p0 = load(executor, live, EmbeddedDefaults.ACME_KEY, Tier.P0, 4, 12, 16);
			assertThat(p0.get()).containsOnlyKeys(200);
			assertThat(p2.get()).containsOnlyKeys(200);
		}
		assertNoServerOverloaded();
	}

	@Test
	@Order(2)
	void p0sReserveFollowsP0AcrossTheFleet() throws Exception {
		Replica flooded = apps.get(0);
		Replica p0Side = apps.get(1);
		servers().forEach(SimulatedInferenceServer::resetPeak);
		int reserve = (int) Math.ceil(0.30 * PODS * SLOTS);
		try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
			// A P2 flood on one replica: it wants every slot.
			Future<Map<Integer, Integer>> p2 = load(executor, List.of(flooded), EmbeddedDefaults.BATCHCO_KEY, Tier.P2,
					32, 10, 48);
			await().atMost(Duration.ofSeconds(20)).until(() -> flooded.owned() >= PODS * SLOTS - 2);
			// P0 on the other, four at a time: it gets P0's fleet reserve, not a share
			// by total demand (4 of 36 would be 1 or 2 slots).
			AtomicInteger peakOwned = new AtomicInteger();
			AtomicBoolean sampling = new AtomicBoolean(true);
			Future<?> sampler = executor.submit(() -> {
				while (sampling.get()) {
					peakOwned.accumulateAndGet(p0Side.owned(), Math::max);
					Thread.sleep(10);
				}
				return null;
			});
			Future<Map<Integer, Integer>> p0 = load(executor, List.of(p0Side), EmbeddedDefaults.ACME_KEY, Tier.P0, 4,
					25, 16);
			assertThat(p0.get()).containsOnlyKeys(200);
			sampling.set(false);
			sampler.get();
			assertThat(peakOwned.get()).as("slots owned by the replica with P0's demand")
				.isGreaterThanOrEqualTo(reserve);
			assertThat(p2.get()).containsOnlyKeys(200);
		}
		assertNoServerOverloaded();
	}

	@Test
	@Order(3)
	void aQuotaHoldsAcrossThreeReplicas() {
		apps.add(start("replica-c"));
		List<Replica> live = List.copyOf(apps);
		await().atMost(Duration.ofSeconds(20))
			.until(() -> ownedByAll(live) == PODS * SLOTS && live.stream().allMatch((app) -> app.owned() >= 1));
		String tenant = "replicas-" + UUID.randomUUID().toString().substring(0, 8);
		String key = "tg-" + tenant;
		TenantStore tenants = live.get(0).context().getBean(TenantStore.class);
		tenants.save(new Tenant(tenant, "Replicas quota", EnumSet.allOf(Tier.class), Tier.P1, 1,
				new Limits(10L, null, null, null, null)));
		tenants.addKey(tenant, key);
		Map<Integer, Integer> statuses = new java.util.TreeMap<>();
		for (int i = 0; i < 30; i++) {
			statuses.merge(chat(live.get(i % live.size()), key, Tier.P1, 8), 1, Integer::sum);
		}
		assertThat(statuses).containsOnlyKeys(200, 429).containsEntry(200, 10).containsEntry(429, 20);
	}

	@Test
	@Order(4)
	void aDeadReplicasSlotsAreTakenOverOnceItsHeartbeatExpired() throws Exception {
		List<Replica> live = List.copyOf(apps);
		Replica dying = live.get(2);
		String dyingName = dying.name();
		List<Replica> survivors = live.subList(0, 2);
		StringRedisTemplate redis = LocalRedis.template();
		String alive = "tg:replicas:{" + FLEET + "}:alive:" + dyingName;
		servers().forEach(SimulatedInferenceServer::resetPeak);
		try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
			Future<Map<Integer, Integer>> p2 = load(executor, survivors, EmbeddedDefaults.BATCHCO_KEY, Tier.P2, 16, 15,
					32);
			Future<Map<Integer, Integer>> onDying = load(executor, List.of(dying), EmbeddedDefaults.BATCHCO_KEY,
					Tier.P2, 4, 3, 32);
			Future<Map<Integer, Integer>> p0 = load(executor, live, EmbeddedDefaults.ACME_KEY, Tier.P0, 3, 4, 16);
			assertThat(p0.get()).containsOnlyKeys(200);
			onDying.get();
			await().atMost(Duration.ofSeconds(20)).until(() -> dying.owned() >= 1);
			// The replica dies: its heartbeat stops, it starts nothing more.
			dying.ownership().halt();
			dying.context().close();
			apps.remove(dying);
			await().atMost(Duration.ofSeconds(20)).until(() -> !Boolean.TRUE.equals(redis.hasKey(alive)));
			long[] roundsAtExpiry = survivors.stream().mapToLong((app) -> app.ownership().rounds()).toArray();
			await().atMost(Duration.ofSeconds(20)).until(() -> ownedByAll(survivors) == PODS * SLOTS);
			for (int i = 0; i < survivors.size(); i++) {
				SlotOwnership ownership = survivors.get(i).ownership();
				assertThat(ownership.picture().replicas()).extracting(SlotOwnership.ReplicaState::name)
					.doesNotContain(dyingName);
				// One round prunes the dead replica and claims; a second may be needed
				// to claim from the picture without it (each round can claim twice).
				assertThat(ownership.rounds() - roundsAtExpiry[i]).as("sync rounds after the heartbeat expired")
					.isLessThanOrEqualTo(4 + 4);
			}
			assertThat(p2.get()).containsOnlyKeys(200);
		}
		assertNoServerOverloaded();
		MeterRegistry meters = survivors.get(0).context().getBean(MeterRegistry.class);
		assertThat(meters.get("tiergate.replicas").gauge().value()).isEqualTo(2);
		assertThat(meters.get("tiergate.slot.ownership.changes").tag("pool", MODEL).counter().count()).isPositive();
		assertThat(meters.get("tiergate.owned.slots").tag("pool", MODEL).gauge().value())
			.isEqualTo(survivors.get(0).owned());
		assertThat(meters.get("tiergate.slot.handover").timer().count()).isPositive();
	}

}
