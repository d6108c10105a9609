package dev.tiergate.batch;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import dev.tiergate.EmbeddedDefaults;
import dev.tiergate.cost.GpuProfile;
import dev.tiergate.cost.GpuServiceTimeModel;
import dev.tiergate.cost.ModelProfile;
import dev.tiergate.cost.SliceShare;
import dev.tiergate.batch.internal.BatchKeys;
import dev.tiergate.dispatch.Admission;
import dev.tiergate.dispatch.DispatchRuntime;
import dev.tiergate.tier.Tier;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Tests for the batch workers of a replica with no batch to run: their loop rests for
 * {@code idle-poll-interval} (here ten minutes, so that nothing in these tests can be
 * found by polling) instead of reading Redis every {@code poll-interval}, and a batch's
 * activation, announced over Redis pub/sub by whichever replica created it, wakes it at
 * once; with batches unfinished and no room, a slot freed or added wakes it.
 */
class BatchIdleWorkersIntegrationTests extends BatchTestSupport {

	@DynamicPropertySource
	static void idle(DynamicPropertyRegistry registry) {
		registry.add("tiergate.batch.idle-poll-interval", () -> "10m");
		// No maintenance pass and no items taken beyond the room within a test: only a
		// freed slot can start a batch item that found no room.
		registry.add("tiergate.batch.reclaim-interval", () -> "10m");
		registry.add("tiergate.batch.prefetch", () -> "0");
		registry.add("tiergate.batch.prefetch-per-lease", () -> "0");
		// A database of its own: no batch of another cached test context is unfinished
		// here, and no other context's workers take this one's items.
		registry.add("spring.data.redis.database", () -> "10");
	}

	@Autowired
	private BatchWorkers workers;

	@Autowired
	private StringRedisTemplate redis;

	@Autowired
	private DispatchRuntime runtime;

	/**
	 * Waits until the workers' loop makes at most {@code passes} passes in {@code over}
	 * (a loop polling every 50 ms would make 20 a second).
	 */
	private void awaitResting(Duration over, int passes) {
		await().atMost(Duration.ofSeconds(30)).until(() -> {
			long before = this.workers.passes();
			Thread.sleep(over.toMillis());
			return this.workers.passes() - before <= passes;
		});
	}

	@Test
	void anIdleLoopRestsAndAnAnnouncementFromAnyPublisherWakesIt() {
		// With the 50 ms poll of a busy loop that would be 40 passes in two seconds. (The
		// channel is shared by every database of the Redis server: another test
		// context's activation may wake this loop once or twice.)
		awaitResting(Duration.ofMillis(2000), 2);
		long before = this.workers.passes();
		// As another replica announces a batch it activated.
		this.redis.convertAndSend(BatchKeys.ACTIVATED, "someone/batch_announced");
		await().atMost(Duration.ofSeconds(5)).until(() -> this.workers.passes() > before);
	}

	@Test
	void aBatchCreatedWhileTheWorkersRestRunsToCompletedWithoutWaitingForTheIdlePoll() throws Exception {
		awaitResting(Duration.ofMillis(1000), 1);
		String key = EmbeddedDefaults.BATCHCO_KEY;
		String fileId = uploadFile(key, Uploads.chatFile(5, LLAMA, 4));
		String id = json.readTree(createBatch(key, fileId, "/v1/chat/completions").body()).get("id").asString();
		JsonNode batch = awaitStatus(key, id, "completed");
		assertThat(batch.get("request_counts").get("completed").asInt()).isEqualTo(5);
	}

	@Test
	void aLoopWithNoRoomRestsAndASlotFreedWakesIt() throws Exception {
		List<Admission> held = new ArrayList<>();
		try {
			// Requests of the test's own hold every slot of the pool: no room for a
			// batch item.
			while (this.runtime.room(LLAMA, Tier.P0) > 0) {
				Admission admission = this.runtime.admit(LLAMA, Tier.P0, "room-test", 1, 1);
				held.add(admission);
				admission.awaitSlot(Duration.ofSeconds(5));
			}
			assertThat(this.runtime.room(LLAMA, Tier.P2)).isZero();
			String key = EmbeddedDefaults.BATCHCO_KEY;
			String fileId = uploadFile(key, Uploads.chatFile(3, LLAMA, 4));
			String id = json.readTree(createBatch(key, fileId, "/v1/chat/completions").body()).get("id").asString();
			awaitStatus(key, id, "in_progress");
			// An unfinished batch without room: with a pass every poll interval (50 ms)
			// that would be 40 passes in two seconds.
			awaitResting(Duration.ofMillis(2000), 2);
			assertThat(awaitStatus(key, id, "in_progress").get("request_counts").get("completed").asInt()).isZero();
			// One slot frees up: the loop takes an item at once, and the next ones as
			// each ends.
			long before = this.workers.passes();
			held.remove(held.size() - 1).close();
			await().atMost(Duration.ofSeconds(5)).until(() -> this.workers.passes() > before);
			JsonNode batch = awaitStatus(key, id, "completed");
			assertThat(batch.get("request_counts").get("completed").asInt()).isEqualTo(3);
		}
		finally {
			held.forEach(Admission::close);
		}
	}

	@Test
	void aLoopWithNoRoomIsWokenBySlotsAddedToThePool() throws Exception {
		// A pool of the test's own on the shared fleet (other test contexts see it come
		// and go): one pod of one slot, held by a request of the test.
		String model = "room-test-llama";
		GpuProfile a100 = GpuProfile.a100Sxm80gb();
		GpuServiceTimeModel timing = new GpuServiceTimeModel(a100, ModelProfile.llama31_8b(), SliceShare.mps(4), 0.05);
		List<Admission> held = new ArrayList<>();
		List<String> pods = new ArrayList<>();
		try {
			pods.add("room-test-0");
			fleet().addPod("room-test-0", model, "room-test-node", 1, timing);
			await().atMost(Duration.ofSeconds(10)).until(() -> this.runtime.room(model, Tier.P0) == 1);
			Admission admission = this.runtime.admit(model, Tier.P0, "room-test", 1, 1);
			held.add(admission);
			admission.awaitSlot(Duration.ofSeconds(5));
			assertThat(this.runtime.room(model, Tier.P2)).isZero();
			String key = EmbeddedDefaults.BATCHCO_KEY;
			String fileId = uploadFile(key, Uploads.chatFile(3, model, 4));
			String id = json.readTree(createBatch(key, fileId, "/v1/chat/completions").body()).get("id").asString();
			awaitStatus(key, id, "in_progress");
			awaitResting(Duration.ofMillis(2000), 2);
			// A second pod appears (the pool scaled up): no lease ended, and neither the
			// idle poll nor maintenance (ten minutes here) comes within the test, yet the
			// batch runs on the new pod while the first slot stays held.
			pods.add("room-test-1");
			fleet().addPod("room-test-1", model, "room-test-node", 4, timing);
			await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
				JsonNode batch = json.readTree(get("/v1/batches/" + id, "Bearer " + key).body());
				assertThat(batch.get("request_counts").get("completed").asInt()).isEqualTo(3);
			});
			assertThat(awaitStatus(key, id, "completed").get("request_counts").get("failed").asInt()).isZero();
		}
		finally {
			held.forEach(Admission::close);
			pods.forEach((pod) -> fleet().removePod(pod));
		}
	}

}
