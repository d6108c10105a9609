package dev.tiergate.dispatch;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;

import dev.tiergate.tier.Tier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * Tests for {@link TierQueue}'s deficit round robin.
 */
class TierQueueTests {

	@Test
	void aHugeRequestIsDispatchedWithoutLoopingOverItsCost() {
		TierQueue queue = new TierQueue();
		queue.add(new Ticket("whale", Tier.P1, Long.MAX_VALUE / 2, 1));
		queue.add(new Ticket("minnow", Tier.P1, 10, 1));
		// One round per 4,096 tokens would be about 10^15 rounds under the pool lock.
		List<String> order = assertTimeoutPreemptively(Duration.ofSeconds(2),
				() -> List.of(queue.poll().tenant, queue.poll().tenant));
		assertThat(order).containsExactly("minnow", "whale");
		assertThat(queue.poll()).isNull();
	}

	@Test
	void dispatchOrderIsTheSameAsRoundByRoundDeficitRoundRobin() {
		Random random = new Random(14);
		for (int run = 0; run < 300; run++) {
			TierQueue queue = new TierQueue();
			Reference reference = new Reference();
			int seq = 0;
			for (int step = 0; step < 200; step++) {
				if (random.nextInt(3) > 0) {
					String tenant = "t" + random.nextInt(5);
					int weight = 1 + random.nextInt(3);
					long cost = 1 + (random.nextBoolean() ? random.nextInt(5000) : random.nextInt(60_000));
					Ticket ticket = new Ticket(tenant, Tier.P1, cost, weight);
					ticket.deadlineNanos = seq++;
					queue.add(ticket);
					reference.add(tenant, weight, ticket);
				}
				else {
					Ticket expected = reference.poll();
					Ticket actual = queue.poll();
					assertThat(actual).as("run %d step %d", run, step).isSameAs(expected);
				}
			}
			Ticket expected;
			do {
				expected = reference.poll();
				assertThat(queue.poll()).isSameAs(expected);
			}
			while (expected != null);
		}
	}

	/** Deficit round robin as specified: one quantum per tenant per visit. */
	private static final class Reference {

		private final Map<String, Tenant> tenants = new HashMap<>();

		private final ArrayDeque<Tenant> ring = new ArrayDeque<>();

		void add(String name, int weight, Ticket ticket) {
			Tenant tenant = this.tenants.computeIfAbsent(name, (n) -> new Tenant());
			tenant.weight = weight;
			tenant.tickets.add(ticket);
			if (!tenant.active) {
				tenant.active = true;
				tenant.visited = false;
				this.ring.addLast(tenant);
			}
		}

		Ticket poll() {
			while (true) {
				Tenant tenant = this.ring.peekFirst();
				if (tenant == null) {
					return null;
				}
				if (!tenant.visited) {
					tenant.deficit += TierQueue.QUANTUM * tenant.weight;
					tenant.visited = true;
				}
				Ticket head = tenant.tickets.getFirst();
				if (head.cost <= tenant.deficit) {
					tenant.deficit -= head.cost;
					tenant.tickets.removeFirst();
					if (tenant.tickets.isEmpty()) {
						tenant.active = false;
						tenant.visited = false;
						tenant.deficit = 0;
						this.ring.pollFirst();
					}
					return head;
				}
				tenant.visited = false;
				this.ring.addLast(this.ring.pollFirst());
			}
		}

		private static final class Tenant {

			private final List<Ticket> tickets = new ArrayList<>();

			private int weight;

			private long deficit;

			private boolean visited;

			private boolean active;

		}

	}

}
