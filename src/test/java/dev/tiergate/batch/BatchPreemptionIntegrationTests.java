package dev.tiergate.batch;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import dev.tiergate.EmbeddedDefaults;
import dev.tiergate.dispatch.DispatchRuntime;
import dev.tiergate.dispatch.PoolSnapshot;
import dev.tiergate.tier.Tier;
import dev.tiergate.tier.Tiers;
import io.micrometer.core.instrument.MeterRegistry;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Tests for {@link BatchWorkers} under preemption, on the simulated fleet: a flood of P0
 * requests arrives while a batch fills the pool (its items run at P2 on the shared slots
 * and on P0's idle reserve); P0 takes the slots back by preempting batch items, which go
 * back to the head of P2's queue and run again. The batch still completes with every
 * {@code custom_id} exactly once, and no P0 request waits longer than P0's
 * {@code maxQueueWait}.
 */
class BatchPreemptionIntegrationTests extends BatchTestSupport {

	private static final int ITEMS = 3000;

	/**
	 * Concurrent P0 clients: more than P0's reserve (30% of 160 slots), so P0 preempts in
	 * the shared part too.
	 */
	private static final int P0_CLIENTS = 80;

	private static final int P0_REQUESTS_EACH = 4;

	@Autowired
	private DispatchRuntime dispatcher;

	@Autowired
	private MeterRegistry meters;

	@Autowired
	private Tiers tiers;

	@Test
	void aP0FloodPreemptsBatchItemsAndTheBatchStillCompletesExactlyOnce() throws Exception {
		String key = EmbeddedDefaults.BATCHCO_KEY;
		long preemptedBefore = p2Preemptions();
		double requeuedBefore = this.meters.counter("tiergate.batch.items.preempted").count();
		String fileId = uploadFile(key, Uploads.chatFile(ITEMS, LLAMA, 64));
		String id = json.readTree(createBatch(key, fileId, "/v1/chat/completions").body()).get("id").asString();
		// The batch fills the pool: P2 holds slots, borrowed ones among them.
		await().atMost(Duration.ofSeconds(30))
			.pollInterval(Duration.ofMillis(20))
			.until(() -> pool().tiers().get(Tier.P2).borrowed() > 0);

		List<long[]> answers = flood();

		JsonNode during = json.readTree(get("/v1/batches/" + id, "Bearer " + key).body());
		assertThat(during.get("status").asString()).as("the flood ran while the batch did").isEqualTo("in_progress");
		assertThat(p2Preemptions() - preemptedBefore).as("P2 leases preempted by the P0 flood").isPositive();
		assertThat(this.meters.counter("tiergate.batch.items.preempted").count() - requeuedBefore)
			.as("batch items preempted and requeued")
			.isPositive();
		long budget = this.tiers.get(Tier.P0).maxQueueWait().toMillis();
		assertThat(answers).hasSize(P0_CLIENTS * P0_REQUESTS_EACH);
		for (long[] answer : answers) {
			assertThat(answer[0]).as("P0 answer status").isEqualTo(200);
			assertThat(answer[1]).as("P0 queue wait (ms) within P0's maxQueueWait").isBetween(0L, budget);
		}

		JsonNode batch = awaitStatus(key, id, "completed", "failed", "expired", "cancelled");
		assertThat(batch.get("status").asString()).isEqualTo("completed");
		assertThat(batch.get("request_counts").get("completed").asInt()).isEqualTo(ITEMS);
		assertThat(batch.get("request_counts").get("failed").asInt()).isZero();
		assertThat(batch.get("error_file_id").isNull()).isTrue();
		// byCustomId fails on a custom_id seen twice.
		Map<String, JsonNode> output = byCustomId(content(key, batch.get("output_file_id").asString()));
		assertThat(output).hasSize(ITEMS);
		for (int i = 0; i < ITEMS; i++) {
			JsonNode line = output.get("item-" + i);
			assertThat(line).as("item-" + i).isNotNull();
			assertThat(line.get("response").get("status_code").asInt()).isEqualTo(200);
		}
	}

	/**
	 * P0 clients, each sending its requests one after the other.
	 * @return status and {@code x-tiergate-queue-ms} of every answer
	 */
	private List<long[]> flood() throws Exception {
		List<Future<List<long[]>>> clients = new ArrayList<>();
		try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
			for (int c = 0; c < P0_CLIENTS; c++) {
				clients.add(threads.submit(() -> {
					List<long[]> answers = new ArrayList<>();
					for (int r = 0; r < P0_REQUESTS_EACH; r++) {
						HttpResponse<String> response = post("/v1/chat/completions", EmbeddedDefaults.ACME_KEY,
								chat(LLAMA, 16), "X-Tiergate-Priority", "P0");
						long queued = response.headers()
							.firstValue("x-tiergate-queue-ms")
							.map(Long::parseLong)
							.orElse(-1L);
						answers.add(new long[] { response.statusCode(), queued });
					}
					return answers;
				}));
			}
		}
		List<long[]> all = new ArrayList<>();
		for (Future<List<long[]>> client : clients) {
			all.addAll(client.get());
		}
		return all;
	}

	private PoolSnapshot pool() {
		return this.dispatcher.snapshots().stream().filter((p) -> p.pool().equals(LLAMA)).findFirst().orElseThrow();
	}

	private long p2Preemptions() {
		return pool().tiers().get(Tier.P2).preempted();
	}

}
