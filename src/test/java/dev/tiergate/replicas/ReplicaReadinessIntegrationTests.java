package dev.tiergate.replicas;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.tiergate.DashboardSession;
import dev.tiergate.EmbeddedDefaults;
import dev.tiergate.FleetIntegrationTestSupport;
import dev.tiergate.fleet.SimulatedGpuFleet;
import dev.tiergate.fleet.SimulatedInferenceServer;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A replica joining its fleet is sent nothing before it can start a request: its
 * readiness ({@code /readyz}, the {@code slotOwnership} part) stays down while the other
 * replicas still hold every slot, and comes up once one of those slots has moved to it.
 * Without this, a rolling restart's new replica was put in rotation with no slot and
 * answered its first requests 503 {@code no_capacity}.
 */
class ReplicaReadinessIntegrationTests {

	private static final String FLEET = "ready-" + UUID.randomUUID().toString().substring(0, 8);

	private static final HttpClient http = HttpClient.newBuilder()
		.version(HttpClient.Version.HTTP_1_1)
		.executor(Executors.newVirtualThreadPerTaskExecutor())
		.build();

	private static final JsonMapper json = JsonMapper.builder().build();

	private final List<Replica> replicas = new ArrayList<>();

	private final List<InputStream> streams = new CopyOnWriteArrayList<>();

	private SimulatedGpuFleet fleet;

	@AfterEach
	void stop() {
		this.streams.forEach(ReplicaReadinessIntegrationTests::closeQuietly);
		this.replicas.forEach((replica) -> replica.context().close());
		if (this.fleet != null) {
			this.fleet.close();
		}
	}

	@Test
	void aJoiningReplicaIsReadyOnlyOnceItHoldsASlot() throws Exception {
		Holding holding = firstReplicaHoldsBothSlots("ready-a");
		Replica first = holding.first();

		// The second replica is started: its share (min-share, one slot) is leased on the
		// first until a stream ends.
		Replica joining = start("ready-b");
		assertThat(joining.ownership().rounds()).as("slot syncs of the joining replica").isPositive();
		for (int i = 0; i < 10; i++) {
			assertThat(joining.owned()).as("slots of the joining replica").isZero();
			assertThat(readyz(joining)).as("readiness of a replica without slots").isEqualTo(503);
			Thread.sleep(100);
		}
		JsonNode waiting = slotOwnership(joining);
		assertThat(waiting.path("status").asString()).isEqualTo("DOWN");
		assertThat(waiting.path("details").path("waitingFor").asString())
			.startsWith("its share of pool " + Replica.MODEL);
		// The operator sees it in the API and on the Replicas page.
		assertThat(replicasView(joining).path("waitingFor").asString())
			.startsWith("its share of pool " + Replica.MODEL);
		DashboardSession operator = DashboardSession.signIn(joining.uri("/"), "admin", "admin");
		assertThat(operator.get("/fragments/replicas").body()).contains(
				"is not ready yet (no traffic from the Service): it waits for its share of pool " + Replica.MODEL);
		assertThat(replicasView(first).path("waitingFor").isNull()).isTrue();
		assertThat(readyz(first)).as("readiness of the replica holding the slots").isEqualTo(200);

		// A stream ends: its slot moves to the joining replica, which is then ready and
		// stays so.
		closeQuietly(this.streams.get(0));
		await().atMost(Duration.ofSeconds(20)).until(() -> joining.owned() == 1 && readyz(joining) == 200);
		assertThat(slotOwnership(joining).path("status").asString()).isEqualTo("UP");
		assertThat(replicasView(joining).path("waitingFor").isNull()).isTrue();
		assertThat(operator.get("/fragments/replicas").body()).doesNotContain("is not ready yet");
		closeQuietly(this.streams.get(1));
		for (CompletableFuture<Integer> call : holding.calls()) {
			assertThat(call.get()).isEqualTo(200);
		}
	}

	@Test
	void aJoiningReplicaIsReadyAfterReadyWithinEvenWithoutASlot() throws Exception {
		// As above, but the joining replica waits at most 3 s: a pool held by long
		// streams must not stall a rolling update.
		Holding holding = firstReplicaHoldsBothSlots("ready-c");
		SimulatedInferenceServer server = this.fleet.servers(Replica.MODEL).get(0);
		Replica joining = start("ready-d", "--tiergate.replicas.ready-within=3s");
		assertThat(readyz(joining)).as("readiness of a replica without slots").isEqualTo(503);
		await().atMost(Duration.ofSeconds(15)).until(() -> readyz(joining) == 200);
		assertThat(joining.owned()).as("slots of the joining replica, the streams still running").isZero();
		assertThat(server.running()).isEqualTo(2);
		this.streams.forEach(ReplicaReadinessIntegrationTests::closeQuietly);
		for (CompletableFuture<Integer> call : holding.calls()) {
			assertThat(call.get()).isEqualTo(200);
		}
	}

	@Test
	void aReplicaAloneInItsFleetIsReadyWithEverySlot() throws Exception {
		this.fleet = Replica.fleetOf(2, 2);
		Replica alone = start("ready-alone");
		await().atMost(Duration.ofSeconds(20)).until(() -> readyz(alone) == 200);
		assertThat(alone.owned()).isEqualTo(4);
		JsonNode health = slotOwnership(alone);
		assertThat(health.path("status").asString()).isEqualTo("UP");
		assertThat(health.path("details").path("fenced").asBoolean(true)).isFalse();
		assertThat(health.path("details").path("ownedSlots").path(Replica.MODEL).asInt()).isEqualTo(4);
	}

	/** A first replica and the two streams of it that hold both slots. */
	private record Holding(Replica first, List<CompletableFuture<Integer>> calls) {

	}

	/**
	 * One pod of two slots; a first replica owns both and keeps them busy with two long
	 * streams.
	 */
	private Holding firstReplicaHoldsBothSlots(String id) {
		this.fleet = Replica.fleetOf(1, 2);
		SimulatedInferenceServer server = this.fleet.servers(Replica.MODEL).get(0);
		Replica first = start(id);
		await().atMost(Duration.ofSeconds(20)).until(() -> first.owned() == 2 && readyz(first) == 200);
		List<CompletableFuture<Integer>> calls = List.of(openStream(first), openStream(first));
		await().atMost(Duration.ofSeconds(20)).until(() -> server.running() == 2 && this.streams.size() == 2);
		return new Holding(first, calls);
	}

	private Replica start(String id, String... extra) {
		Replica replica = Replica.start(id, this.fleet, FLEET, this.fleet.servers(Replica.MODEL).size(), extra);
		this.replicas.add(replica);
		return replica;
	}

	/** A P1 stream of 4,000 tokens, read until the test closes it. */
	private CompletableFuture<Integer> openStream(Replica replica) {
		HttpRequest request = HttpRequest.newBuilder(replica.uri("/v1/chat/completions"))
			.header("Authorization", "Bearer " + EmbeddedDefaults.ACME_KEY)
			.header("Content-Type", "application/json")
			.header("X-Tiergate-Priority", "P1")
			.POST(HttpRequest.BodyPublishers.ofString(
					"""
							{"model":"%s","messages":[{"role":"user","content":"Hold a slot"}],"max_tokens":4000,"stream":true}"""
						.formatted(Replica.MODEL)))
			.build();
		return http.sendAsync(request, HttpResponse.BodyHandlers.ofInputStream()).thenApply((response) -> {
			this.streams.add(response.body());
			try (BufferedReader reader = new BufferedReader(
					new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
				while (reader.readLine() != null) {
					// read until closed
				}
			}
			catch (IOException ex) {
				// closed by the test
			}
			return response.statusCode();
		});
	}

	private static JsonNode replicasView(Replica replica) throws IOException, InterruptedException {
		HttpResponse<String> view = http.send(HttpRequest.newBuilder(replica.uri("/api/v1/replicas"))
			.header("Authorization", FleetIntegrationTestSupport.basic("admin", "admin"))
			.timeout(Duration.ofSeconds(5))
			.build(), HttpResponse.BodyHandlers.ofString());
		assertThat(view.statusCode()).as(view.body()).isEqualTo(200);
		return json.readTree(view.body());
	}

	private static int readyz(Replica replica) throws IOException, InterruptedException {
		HttpRequest request = HttpRequest.newBuilder(replica.uri("/readyz")).timeout(Duration.ofSeconds(2)).build();
		return http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
	}

	/** The {@code slotOwnership} part of the replica's health, on its management port. */
	private static JsonNode slotOwnership(Replica replica) throws IOException, InterruptedException {
		String port = replica.context().getEnvironment().getProperty("local.management.port");
		HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/actuator/health"))
			.timeout(Duration.ofSeconds(2))
			.build();
		String body = http.send(request, HttpResponse.BodyHandlers.ofString()).body();
		return json.readTree(body).path("components").path("slotOwnership");
	}

	private static void closeQuietly(InputStream in) {
		try {
			in.close();
		}
		catch (IOException ex) {
			// closing anyway
		}
	}

}
