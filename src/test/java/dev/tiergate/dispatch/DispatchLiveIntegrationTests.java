package dev.tiergate.dispatch;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

import org.springframework.test.annotation.DirtiesContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Import;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import dev.tiergate.LocalRedis;
import dev.tiergate.EmbeddedDefaults;
import dev.tiergate.TiergateApplication;
import dev.tiergate.cost.GpuProfile;
import dev.tiergate.cost.GpuServiceTimeModel;
import dev.tiergate.cost.ModelProfile;
import dev.tiergate.cost.SliceShare;
import dev.tiergate.fleet.SimulatedGpuFleet;
import dev.tiergate.fleet.SimulatedInferenceServer;
import dev.tiergate.tier.Tier;
import dev.tiergate.tier.Tiers;
import dev.tiergate.tier.TierProperties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Tests of the dispatcher on the live path: a small fleet of its own (one model, 2 pods x
 * 2 slots), real HTTP, real streams, real preemption.
 */
@SpringBootTest(classes = TiergateApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "management.server.port=0", "spring.data.redis.database=" + LocalRedis.TEST_DATABASE,
				"spring.data.redis.timeout=" + LocalRedis.TEST_TIMEOUT, "logging.level.io.fabric8.mockwebserver=WARN" })
@Import(EmbeddedDefaults.class)
// Its fleet is stopped after the class: close the context too, so that its batch workers
// and informers do
// not live on against a fleet that is gone (they would take other tests' batch items from
// the shared Redis).
@DirtiesContext
class DispatchLiveIntegrationTests {

	private static final String MODEL = "tiny-llama";

	private static final SimulatedGpuFleet fleet = startFleet();

	private static final java.net.http.HttpClient http = java.net.http.HttpClient.newBuilder()
		.version(java.net.http.HttpClient.Version.HTTP_1_1)
		.build();

	@LocalServerPort
	private int port;

	@Autowired
	private DispatchRuntime runtime;

	private final List<Stream> streams = new CopyOnWriteArrayList<>();

	private static SimulatedGpuFleet startFleet() {
		SimulatedGpuFleet fleet = SimulatedGpuFleet.startEmpty();
		GpuProfile a100 = GpuProfile.a100Sxm80gb();
		fleet.addNode("gpu-a", a100, 1, 4);
		GpuServiceTimeModel model = new GpuServiceTimeModel(a100, ModelProfile.llama31_8b(), SliceShare.mps(4), 0.05);
		fleet.addPod("tiny-0", MODEL, "gpu-a", 2, model);
		fleet.addPod("tiny-1", MODEL, "gpu-a", 2, model);
		return fleet;
	}

	@DynamicPropertySource
	static void fleet(DynamicPropertyRegistry registry) {
		registry.add("tiergate.cluster.api-server", fleet::apiServerUrl);
	}

	@AfterAll
	static void stopFleet() {
		fleet.close();
	}

	@BeforeEach
	void fleetIsDiscovered() {
		await().atMost(Duration.ofSeconds(10)).until(() -> snapshot().acceptingSlots() == 4);
	}

	@AfterEach
	void closeStreams() {
		this.streams.forEach(Stream::close);
		await().atMost(Duration.ofSeconds(10)).until(() -> snapshot().used() == 0 && snapshot().queued() == 0);
	}

	private PoolSnapshot snapshot() {
		return this.runtime.snapshots()
			.stream()
			.filter((s) -> s.pool().equals(MODEL))
			.findFirst()
			.orElse(new PoolSnapshot(MODEL, 0, 0, 0, 0, 0, 0, 0, 0, java.util.Map.of()));
	}

	private String body(int maxTokens, boolean stream) {
		return "{\"model\":\"" + MODEL + "\",\"stream\":" + stream + ",\"max_tokens\":" + maxTokens
				+ ",\"messages\":[{\"role\":\"user\",\"content\":\"go\"}]}";
	}

	private HttpRequest request(String tier, int maxTokens, boolean stream) {
		return HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + this.port + "/v1/chat/completions"))
			.header("Authorization", "Bearer " + EmbeddedDefaults.ACME_KEY)
			.header("Content-Type", "application/json")
			.header("X-Tiergate-Priority", tier)
			.timeout(Duration.ofSeconds(60))
			.POST(HttpRequest.BodyPublishers.ofString(body(maxTokens, stream)))
			.build();
	}

	/** Opens a long stream in the background; its events are collected as they come. */
	private Stream openStream(String tier, int maxTokens) {
		Stream stream = new Stream();
		stream.call = http.sendAsync(request(tier, maxTokens, true), HttpResponse.BodyHandlers.ofInputStream())
			.thenApply((response) -> {
				stream.body = response.body();
				stream.status = response.statusCode();
				try (BufferedReader reader = new BufferedReader(
						new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
					String line;
					while ((line = reader.readLine()) != null) {
						if (line.startsWith("data: ")) {
							stream.events.add(line.substring(6));
						}
					}
				}
				catch (java.io.IOException ex) {
					// closed by the test
				}
				return response.statusCode();
			});
		this.streams.add(stream);
		return stream;
	}

	@Test
	void p0IsServedAheadOfAQueuedP2FloodAndTakesBackBorrowedSlots() throws Exception {
		// Four P2 streams take every slot: two in the shared part, two borrowed from P0's
		// reserve.
		for (int i = 0; i < 4; i++) {
			openStream("P2", 4000);
		}
		await().atMost(Duration.ofSeconds(10)).until(() -> snapshot().tiers().get(Tier.P2).inFlight() == 4);
		assertThat(snapshot().tiers().get(Tier.P2).borrowed()).isEqualTo(2);
		await().atMost(Duration.ofSeconds(10)).until(() -> this.streams.stream().allMatch((s) -> !s.events.isEmpty()));
		// Four more P2 requests wait behind them.
		for (int i = 0; i < 4; i++) {
			openStream("P2", 4000);
		}
		await().atMost(Duration.ofSeconds(10)).until(() -> snapshot().tiers().get(Tier.P2).queued() == 4);
		long p2AdmittedBefore = snapshot().tiers().get(Tier.P2).admitted();

		// Two P0 requests arrive: each takes back a borrowed slot at once, ahead of every
		// waiting P2 request.
		List<CompletableFuture<HttpResponse<String>>> p0 = new ArrayList<>();
		for (int i = 0; i < 2; i++) {
			p0.add(http.sendAsync(request("P0", 300, false), HttpResponse.BodyHandlers.ofString()));
		}
		await().atMost(Duration.ofSeconds(5)).until(() -> snapshot().tiers().get(Tier.P0).inFlight() == 2);
		PoolSnapshot during = snapshot();
		assertThat(during.tiers().get(Tier.P2).admitted()).as("no queued P2 request was dispatched before P0")
			.isEqualTo(p2AdmittedBefore);
		assertThat(during.tiers().get(Tier.P2).queued()).isEqualTo(4);
		assertThat(during.tiers().get(Tier.P2).borrowed()).isZero();
		for (CompletableFuture<HttpResponse<String>> call : p0) {
			HttpResponse<String> response = call.get();
			assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
			assertThat(response.headers().firstValue("x-tiergate-tier")).contains("P0");
			assertThat(response.body()).contains("\"service_tier\":\"priority\"");
		}
		PoolSnapshot after = snapshot();
		assertThat(after.tiers().get(Tier.P2).preempted()).isEqualTo(2);
		assertThat(after.tiers().get(Tier.P0).admitted()).isEqualTo(2);
		// The preempted streams had sent tokens: they end with a preempted event, then
		// [DONE].
		await().atMost(Duration.ofSeconds(10))
			.until(() -> this.streams.stream().filter((s) -> s.endedWith("\"type\":\"preempted\"")).count() == 2);
	}

	@Test
	void disconnectingAClientFreesItsSlot() {
		Stream stream = openStream("P1", 4000);
		await().atMost(Duration.ofSeconds(10)).until(() -> !stream.events.isEmpty());
		assertThat(snapshot().used()).isEqualTo(1);
		stream.close();
		await().atMost(Duration.ofSeconds(10)).until(() -> snapshot().used() == 0);
	}

	@Test
	void aBackendThatDiesMidRequestFreesItsSlotAndTheClientIsTold() {
		Stream stream = openStream("P1", 4000);
		await().atMost(Duration.ofSeconds(10)).until(() -> stream.events.size() > 3);
		fleet.servers(MODEL).forEach(SimulatedInferenceServer::dieMidStream);
		await().atMost(Duration.ofSeconds(10)).until(() -> stream.endedWith("\"code\":\"upstream_error\""));
		await().atMost(Duration.ofSeconds(10)).until(() -> snapshot().used() == 0);
	}

	@Test
	void aQueuedRequestPastItsTiersWaitIsRejected() throws Exception {
		for (int i = 0; i < 4; i++) {
			openStream("P1", 4000);
		}
		await().atMost(Duration.ofSeconds(10)).until(() -> snapshot().used() == 4);
		this.runtime.snapshots();
		// P1 waits at most 10 s by default; P1 may not preempt P1. Shorten the wait
		// through the tiers.
		HttpResponse<String> response;
		Tiers tiers = this.tiers;
		tiers.update(java.util.Map.of(Tier.P1,
				new TierProperties.Override(null, null, Duration.ofMillis(300), null, null, null)));
		try {
			response = http.send(request("P1", 8, false), HttpResponse.BodyHandlers.ofString());
		}
		finally {
			tiers.update(java.util.Map.of(Tier.P1, new TierProperties.Override(null, null,
					TierProperties.DEFAULTS.get(Tier.P1).maxQueueWait(), null, null, null)));
		}
		assertThat(response.statusCode()).isEqualTo(503);
		assertThat(response.body()).contains("queue_timeout");
		assertThat(response.headers().firstValue("Retry-After")).isPresent();
	}

	@Autowired
	private Tiers tiers;

	/** A streaming call in the background. */
	private static final class Stream {

		volatile CompletableFuture<Integer> call;

		volatile InputStream body;

		volatile int status;

		final List<String> events = new CopyOnWriteArrayList<>();

		boolean endedWith(String fragment) {
			int size = this.events.size();
			return size >= 2 && this.events.get(size - 1).equals("[DONE]")
					&& this.events.get(size - 2).contains(fragment);
		}

		void close() {
			InputStream in = this.body;
			if (in != null) {
				try {
					in.close();
				}
				catch (java.io.IOException ex) {
					// closing anyway
				}
			}
			this.call.cancel(true);
		}

	}

}
