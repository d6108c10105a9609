package dev.tiergate.batch.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.core.StringRedisTemplate;

import dev.tiergate.LocalRedis;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link BatchQueue} on the local Redis, each under a tenant of its own.
 */
class BatchQueueTests {

	private final StringRedisTemplate redis = LocalRedis.template();

	private final BatchQueue queue = new BatchQueue(this.redis);

	private final String tenant = "bq-" + UUID.randomUUID().toString().substring(0, 8);

	@AfterEach
	void forget() {
		this.redis.delete(
				List.of(BatchQueue.streamKey(this.tenant, "batch_q"), BatchQueue.resultsKey(this.tenant, "batch_q")));
	}

	@Test
	void enqueueingAgainAfterAFailureAddsEveryLineOnceInOrder() {
		this.queue.start(this.tenant, "batch_q");
		this.queue.enqueue(this.tenant, "batch_q", items(1, 600));
		// The same page again (its reply was lost), then one overlapping the first.
		this.queue.enqueue(this.tenant, "batch_q", items(1, 600));
		this.queue.enqueue(this.tenant, "batch_q", items(401, 1000));
		List<BatchQueue.Delivery> all = new ArrayList<>();
		String after = null;
		while (true) {
			List<BatchQueue.Delivery> page = this.queue.range(this.tenant, "batch_q", after, 300);
			if (page.isEmpty()) {
				break;
			}
			all.addAll(page);
			after = page.get(page.size() - 1).entryId();
		}
		assertThat(all).hasSize(1000);
		for (int i = 0; i < all.size(); i++) {
			assertThat(all.get(i).entryId()).isEqualTo((i + 1) + "-1");
			assertThat(all.get(i).item()).isEqualTo(item(i + 1));
		}
	}

	@Test
	void aWorkerReadsWhatWasEnqueuedAndAResultIsRecordedOnce() {
		this.queue.start(this.tenant, "batch_q");
		this.queue.enqueue(this.tenant, "batch_q", items(1, 3));
		List<BatchQueue.Delivery> read = this.queue.read(this.tenant, "batch_q", "w1", 10);
		assertThat(read).extracting(BatchQueue.Delivery::item).containsExactly(item(1), item(2), item(3));
		assertThat(this.queue.pending(this.tenant, "batch_q")).isEqualTo(3);
		this.queue.ack(this.tenant, "batch_q", read.get(0).entryId());
		assertThat(this.queue.pending(this.tenant, "batch_q")).isEqualTo(2);
	}

	private static List<QueueItem> items(int from, int to) {
		List<QueueItem> items = new ArrayList<>();
		for (int line = from; line <= to; line++) {
			items.add(item(line));
		}
		return items;
	}

	private static QueueItem item(int line) {
		return new QueueItem("c-" + line, line, "{\"model\":\"m\",\"n\":\"é " + line + "\"}", 7, 16);
	}

}
