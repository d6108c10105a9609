package dev.tiergate.batch;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.support.GenericApplicationContext;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;

import dev.tiergate.EmbeddedDefaults;
import dev.tiergate.TiergateApplication;
import dev.tiergate.batch.internal.BatchKeys;
import dev.tiergate.batch.internal.BatchQueue;
import dev.tiergate.fleet.SimulatedGpuFleet;
import dev.tiergate.routing.EndpointRegistry;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Exactly once under crashes, and the end of a batch when its finalizer dies or its
 * completion window passes. A batch of 500 items runs on the simulated fleet; the
 * application whose workers run it is killed mid-batch at a chosen step (through
 * {@link BatchFaults}: from the kill on, every step of its workers fails as if the
 * process had died, so nothing more is written or acknowledged), its context is closed,
 * and a new application on the same Redis finishes the batch: 500 results, each
 * {@code custom_id} exactly once. The kill points: before a result is written, between
 * the write and the acknowledgement, while a new worker reclaims the dead one's items,
 * while the dead one finalizes the batch (before and after writing its files), and while
 * it queues a new batch's items (another replica queues it again from its file). Expiry:
 * the application's clock ({@link ShiftedClock}) jumps past the batch's window; it
 * expires with what ran in its output file and the rest as {@code batch_expired} errors.
 * Runs on Redis database 14, so that the shared test applications (database 15) do not
 * take part.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BatchCrashIntegrationTests {

	private static final int DATABASE = 14;

	private static final int ITEMS = 500;

	private static final Set<String> TERMINAL = Set.of("completed", "failed", "expired", "cancelled");

	private static final JsonMapper json = JsonMapper.builder().build();

	private static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

	private static StringRedisTemplate redis;

	private static App current;

	/** A worker that dies at the chosen step: from then on, every step fails. */
	static final class Crash implements BatchFaults {

		private volatile BatchFaults.Point point;

		private volatile int after;

		private final AtomicInteger seen = new AtomicInteger();

		volatile boolean dead;

		volatile String killedAt;

		volatile String killedBatch;

		/** How long each queued page takes longer (a slow queueing, not a crash). */
		volatile long queueingPauseMillis;

		/** The threads that queued pages, in order. */
		final List<String> queuedOn = new CopyOnWriteArrayList<>();

		void arm(BatchFaults.Point point, int after) {
			this.point = point;
			this.after = after;
		}

		@Override
		public void at(BatchFaults.Point at, String batchId, String customId) {
			if (this.dead) {
				throw new IllegalStateException("killed");
			}
			if (at == BatchFaults.Point.QUEUED) {
				this.queuedOn.add(Thread.currentThread().getName());
				if (this.queueingPauseMillis > 0) {
					try {
						Thread.sleep(this.queueingPauseMillis);
					}
					catch (InterruptedException ex) {
						Thread.currentThread().interrupt();
					}
				}
			}
			if (at == this.point && this.seen.incrementAndGet() == this.after) {
				this.killedAt = customId;
				this.killedBatch = batchId;
				this.dead = true;
				throw new IllegalStateException("killed");
			}
		}

	}

	/** One application with its crash switch and its clock. */
	record App(ConfigurableApplicationContext context, Crash crash, ShiftedClock clock, int port) {

		static App start(BatchFaults.Point point, int after) {
			return start(point, after, 0);
		}

		static App start(BatchFaults.Point point, int after, long queueingPauseMillis) {
			Crash crash = new Crash();
			if (point != null) {
				crash.arm(point, after);
			}
			crash.queueingPauseMillis = queueingPauseMillis;
			ShiftedClock clock = new ShiftedClock();
			ConfigurableApplicationContext context = new SpringApplicationBuilder(TiergateApplication.class,
					EmbeddedDefaults.class)
				.initializers((ctx) -> {
					ctx.getBeanFactory().registerSingleton("crashFaults", crash);
					// The clock every component reads: the system's, until a test shifts
					// it.
					((GenericApplicationContext) ctx).registerBean("shiftedClock", Clock.class, () -> clock,
							(definition) -> definition.setPrimary(true));
				})
				// Command-line arguments: the application.yaml (server.port 8080) would
				// win
				// over default properties.
				.run("--server.port=0", "--management.server.port=0", "--spring.data.redis.database=" + DATABASE,
						"--tiergate.cluster.api-server=" + SimulatedGpuFleet.shared().apiServerUrl(),
						"--tiergate.batch.claim-idle=1500ms", "--tiergate.batch.reclaim-interval=200ms",
						// The machine is shared: allow slow Redis answers here (the
						// default is
						// tuned for the quota circuit, not for this test's start-ups).
						"--spring.data.redis.timeout=3s", "--logging.level.io.fabric8.mockwebserver=WARN",
						"--logging.level.io.kubernetes=ERROR");
			int port = Integer.parseInt(context.getEnvironment().getProperty("local.server.port"));
			EndpointRegistry registry = context.getBean(EndpointRegistry.class);
			await().atMost(Duration.ofSeconds(30)).until(() -> registry.pool(SimulatedGpuFleet.LLAMA).size() == 20);
			return new App(context, crash, clock, port);
		}

		URI uri(String path) {
			return URI.create("http://127.0.0.1:" + this.port + path);
		}

	}

	private static synchronized StringRedisTemplate redis() {
		if (redis == null) {
			RedisStandaloneConfiguration configuration = new RedisStandaloneConfiguration("127.0.0.1", 6379);
			configuration.setDatabase(DATABASE);
			LettuceConnectionFactory connections = new LettuceConnectionFactory(configuration);
			connections.afterPropertiesSet();
			connections.start();
			redis = new StringRedisTemplate(connections);
		}
		return redis;
	}

	/**
	 * Only this test's batch is unfinished in its database: batches left by an earlier
	 * run that failed would otherwise take the kill.
	 */
	@BeforeEach
	void forgetEarlierRuns() {
		redis().delete(BatchKeys.ACTIVE);
	}

	@AfterEach
	void stop() {
		if (current != null) {
			current.context().close();
			current = null;
		}
	}

	private static App app() {
		if (current == null) {
			current = App.start(null, 0);
		}
		return current;
	}

	private static App armed(BatchFaults.Point point, int after) {
		current = App.start(point, after);
		return current;
	}

	private static String startBatch(App app) throws Exception {
		return startBatch(app, ITEMS, 8);
	}

	private static String startBatch(App app, int items, int maxTokens) throws Exception {
		HttpResponse<String> batch = sendBatch(app, items, maxTokens);
		assertThat(batch.statusCode()).as(batch.body()).isEqualTo(200);
		return json.readTree(batch.body()).get("id").asString();
	}

	/** Uploads a file of chat items and asks for a batch of it. */
	private static HttpResponse<String> sendBatch(App app, int items, int maxTokens) throws Exception {
		HttpResponse<String> file = http.send(
				Uploads.upload(app.uri("/v1/files"), EmbeddedDefaults.BATCHCO_KEY, "batch", "crash.jsonl",
						Uploads.chatFile(items, SimulatedGpuFleet.LLAMA, maxTokens)),
				HttpResponse.BodyHandlers.ofString());
		assertThat(file.statusCode()).as(file.body()).isEqualTo(200);
		return http.send(HttpRequest.newBuilder(app.uri("/v1/batches"))
			.header("Authorization", "Bearer " + EmbeddedDefaults.BATCHCO_KEY)
			.header("Content-Type", "application/json")
			.POST(HttpRequest.BodyPublishers.ofString("""
					{"input_file_id":"%s","endpoint":"/v1/chat/completions","completion_window":"24h"}"""
				.formatted(json.readTree(file.body()).get("id").asString())))
			.build(), HttpResponse.BodyHandlers.ofString());
	}

	private static JsonNode batch(App app, String id) throws Exception {
		return json.readTree(http.send(HttpRequest.newBuilder(app.uri("/v1/batches/" + id))
			.header("Authorization", "Bearer " + EmbeddedDefaults.BATCHCO_KEY)
			.build(), HttpResponse.BodyHandlers.ofString()).body());
	}

	/** Kills the current application at its armed point, closes it, starts another. */
	private static void killMidBatch(String id) throws Exception {
		App dying = current;
		await().atMost(Duration.ofSeconds(60)).until(() -> dying.crash().dead);
		assertThat(batch(dying, id).get("status").asString()).as("killed mid-batch").isEqualTo("in_progress");
		dying.context().close();
		current = null;
	}

	private static String content(App app, String fileId) throws Exception {
		HttpResponse<String> read = http.send(HttpRequest.newBuilder(app.uri("/v1/files/" + fileId + "/content"))
			.header("Authorization", "Bearer " + EmbeddedDefaults.BATCHCO_KEY)
			.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
		assertThat(read.statusCode()).as(read.body()).isEqualTo(200);
		return read.body();
	}

	private static void assertExactlyOnce(App app, String id) throws Exception {
		JsonNode done = await().atMost(Duration.ofSeconds(120))
			.pollInterval(Duration.ofMillis(200))
			.until(() -> batch(app, id), (b) -> b.get("status").asString().equals("completed"));
		assertThat(done.get("request_counts").get("total").asInt()).isEqualTo(ITEMS);
		assertThat(done.get("request_counts").get("completed").asInt()).isEqualTo(ITEMS);
		assertThat(done.get("request_counts").get("failed").asInt()).isZero();
		String output = http
			.send(HttpRequest.newBuilder(app.uri("/v1/files/" + done.get("output_file_id").asString() + "/content"))
				.header("Authorization", "Bearer " + EmbeddedDefaults.BATCHCO_KEY)
				.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8))
			.body();
		Map<String, Integer> seen = new HashMap<>();
		for (String line : output.split("\n")) {
			JsonNode node = json.readTree(line);
			seen.merge(node.get("custom_id").asString(), 1, Integer::sum);
			assertThat(node.get("response").get("status_code").asInt()).isEqualTo(200);
		}
		assertThat(seen).hasSize(ITEMS);
		assertThat(seen.values()).allMatch((n) -> n == 1);
		for (int i = 0; i < ITEMS; i++) {
			assertThat(seen).containsKey("item-" + i);
		}
	}

	@Test
	@Order(1)
	void killedBeforeAResultIsWrittenTheBatchCompletesExactlyOnce() throws Exception {
		App app = armed(BatchFaults.Point.BEFORE_RESULT_WRITE, 100);
		String id = startBatch(app);
		killMidBatch(id);
		BatchQueue queue = new BatchQueue(redis());
		assertThat(queue.pending("batchco", id)).as("items the dead worker left pending").isPositive();
		assertThat(queue.hasResult("batchco", id, app.crash().killedAt)).isFalse();
		assertExactlyOnce(app(), id);
	}

	@Test
	@Order(2)
	void killedBetweenTheWriteAndTheAcknowledgementTheBatchCompletesExactlyOnce() throws Exception {
		App app = armed(BatchFaults.Point.AFTER_RESULT_WRITE, 100);
		String id = startBatch(app);
		killMidBatch(id);
		BatchQueue queue = new BatchQueue(redis());
		assertThat(queue.pending("batchco", id)).isPositive();
		assertThat(queue.hasResult("batchco", id, app.crash().killedAt))
			.as("the killed item's result was written but not acknowledged")
			.isTrue();
		assertExactlyOnce(app(), id);
	}

	@Test
	@Order(3)
	void killedWhileReclaimingTheBatchCompletesExactlyOnce() throws Exception {
		App first = armed(BatchFaults.Point.BEFORE_RESULT_WRITE, 100);
		String id = startBatch(first);
		killMidBatch(id);
		// Armed before it starts: it claims the dead worker's items as soon as they are
		// idle.
		App second = armed(BatchFaults.Point.RECLAIMED, 3);
		killMidBatch(id);
		assertThat(second.crash().killedAt).as("killed on a reclaimed item").isNotNull();
		assertThat(new BatchQueue(redis()).pending("batchco", id)).isPositive();
		assertExactlyOnce(app(), id);
	}

	@Test
	@Order(4)
	void aReplicaThatDiesBeforeWritingTheFilesIsTakenOverWhenItsLeaseEnds() throws Exception {
		App first = armed(BatchFaults.Point.BEFORE_FINALIZE, 1);
		String id = startBatch(first);
		await().atMost(Duration.ofSeconds(60)).until(() -> first.crash().dead);
		JsonNode stuck = batch(first, id);
		assertThat(stuck.get("status").asString()).as("killed while finalizing").isEqualTo("finalizing");
		assertThat(stuck.get("output_file_id").isNull()).isTrue();
		first.context().close();
		current = null;
		assertExactlyOnce(app(), id);
	}

	@Test
	@Order(5)
	void aReplicaThatDiesAfterWritingTheFilesIsTakenOverAndTheFilesAreWrittenOnce() throws Exception {
		App first = armed(BatchFaults.Point.FILES_WRITTEN, 1);
		String id = startBatch(first);
		await().atMost(Duration.ofSeconds(60)).until(() -> first.crash().dead);
		assertThat(batch(first, id).get("status").asString()).as("killed while finalizing").isEqualTo("finalizing");
		first.context().close();
		current = null;
		App second = app();
		assertExactlyOnce(second, id);
		String outputId = batch(second, id).get("output_file_id").asString();
		String files = http
			.send(HttpRequest.newBuilder(second.uri("/v1/files?purpose=batch_output"))
				.header("Authorization", "Bearer " + EmbeddedDefaults.BATCHCO_KEY)
				.build(), HttpResponse.BodyHandlers.ofString())
			.body();
		assertThat(files.split("\"id\":\"" + outputId + "\"", -1)).as("the output file listed once").hasSize(2);
	}

	@Test
	@Order(6)
	void aReplicaThatDiesWhileQueueingABatchLeavesItToAnotherThatQueuesItAgainAndCompletesItExactlyOnce()
			throws Exception {
		App first = armed(BatchFaults.Point.QUEUED, 1);
		// The replica dies once the items are queued, before the batch is in progress:
		// its caller gets no answer worth reading (a dead process gives none).
		sendBatch(first, ITEMS, 8);
		assertThat(first.crash().dead).isTrue();
		String id = first.crash().killedBatch;
		assertThat(batch(first, id).get("status").asString()).as("killed while queueing").isEqualTo("validating");
		first.context().close();
		// The new replica queues the batch again slowly (its one page 3 s): its workers'
		// loop goes on meanwhile (a pass at least every reclaim interval, 200 ms here),
		// since a large file would keep it from the other batches' items for as long.
		App second = App.start(null, 0, 3000);
		current = second;
		BatchWorkers workers = second.context().getBean(BatchWorkers.class);
		await().atMost(Duration.ofSeconds(30)).until(() -> !second.crash().queuedOn.isEmpty());
		long passes = workers.passes();
		Thread.sleep(1500);
		assertThat(workers.passes() - passes).as("passes of the workers' loop while the batch was queued again")
			.isGreaterThanOrEqualTo(3);
		assertThat(second.crash().queuedOn).as("the threads that queued pages").doesNotContain("batch-workers");
		assertExactlyOnce(second, id);
	}

	@Test
	@Order(7)
	void aSlowQueueingIsNotQueuedAgainBesideItself() throws Exception {
		App app = app();
		// Five pages of 1,000 items, each 700 ms slower than it is: the queueing takes
		// over twice claim-idle (1,500 ms here), though no page waits as long as that.
		app.crash().queueingPauseMillis = 700;
		String id = startBatch(app, 5000, 1);
		assertThat(batch(app, id).get("status").asString()).isIn("in_progress", "finalizing", "completed");
		// The workers' loop maintains every 200 ms here: time for it to have started a
		// second queueing had it taken the slow one for a dead one.
		Thread.sleep(1000);
		assertThat(app.crash().queuedOn).as("the pages queued, by thread").hasSize(5).doesNotContain("batch-workers");
	}

	@Test
	@Order(8)
	void aBatchPastItsCompletionWindowExpiresWithWhatRanAndTheRestAsErrors() throws Exception {
		int items = 3000;
		App app = app();
		String id = startBatch(app, items, 64);
		await().atMost(Duration.ofSeconds(60))
			.until(() -> batch(app, id).get("request_counts").get("completed").asInt() > 0);
		JsonNode running = batch(app, id);
		app.clock().shift(Duration.ofHours(24).plusMinutes(1));
		JsonNode done = await().atMost(Duration.ofSeconds(60))
			.pollInterval(Duration.ofMillis(200))
			.until(() -> batch(app, id), (b) -> TERMINAL.contains(b.get("status").asString()));
		assertThat(done.get("status").asString()).isEqualTo("expired");
		assertThat(done.get("expired_at").asLong()).isGreaterThanOrEqualTo(running.get("expires_at").asLong());
		int completed = done.get("request_counts").get("completed").asInt();
		int failed = done.get("request_counts").get("failed").asInt();
		assertThat(completed).as("partial results").isPositive().isLessThan(items);
		assertThat(completed + failed).isEqualTo(items);
		Map<String, Integer> seen = new HashMap<>();
		for (String line : content(app, done.get("output_file_id").asString()).split("\n")) {
			JsonNode node = json.readTree(line);
			seen.merge(node.get("custom_id").asString(), 1, Integer::sum);
			assertThat(node.get("response").get("status_code").asInt()).isEqualTo(200);
		}
		assertThat(seen).hasSize(completed);
		int expired = 0;
		for (String line : content(app, done.get("error_file_id").asString()).split("\n")) {
			JsonNode node = json.readTree(line);
			seen.merge(node.get("custom_id").asString(), 1, Integer::sum);
			assertThat(node.get("error").get("code").asString()).isEqualTo("batch_expired");
			expired++;
		}
		assertThat(expired).isEqualTo(failed);
		assertThat(seen).as("every item once, in one of the two files").hasSize(items);
		assertThat(seen.values()).allMatch((n) -> n == 1);
	}

}
