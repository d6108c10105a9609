package dev.tiergate.routing;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import dev.tiergate.cluster.InferencePod;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link EndpointRegistry}.
 */
class EndpointRegistryTests {

	private final InMemoryClusterView cluster = new InMemoryClusterView();

	private final EndpointRegistry registry = new EndpointRegistry(this.cluster,
			new RoutingProperties(4, Map.of("big", 2)));

	@Test
	void groupsEndpointsIntoPoolsByModel() {
		this.cluster.upsert(InMemoryClusterView.pod("a", "llama", 8));
		this.cluster.upsert(InMemoryClusterView.pod("b", "llama", 8));
		this.cluster.upsert(InMemoryClusterView.pod("c", "qwen", 8));
		assertThat(this.registry.models()).containsExactly("llama", "qwen");
		assertThat(this.registry.pool("llama")).extracting(Endpoint::key).containsExactly("default/a", "default/b");
		assertThat(this.registry.pool("nope")).isEmpty();
	}

	@Test
	void slotsComeFromTheAnnotationThenThePerModelDefaultThenTheGlobalDefault() {
		this.cluster.upsert(InMemoryClusterView.pod("a", "llama", 8));
		this.cluster.upsert(InMemoryClusterView.pod("b", "big", 0));
		this.cluster.upsert(InMemoryClusterView.pod("c", "small", 0));
		assertThat(this.registry.pool("llama").get(0).slots()).isEqualTo(8);
		assertThat(this.registry.pool("big").get(0).slots()).isEqualTo(2);
		assertThat(this.registry.pool("small").get(0).slots()).isEqualTo(4);
	}

	@Test
	void acquiresOnTheLeastLoadedEndpointAndNeverBeyondItsSlots() {
		this.cluster.upsert(InMemoryClusterView.pod("a", "llama", 2));
		this.cluster.upsert(InMemoryClusterView.pod("b", "llama", 2));
		List<EndpointLease> leases = new ArrayList<>();
		for (int i = 0; i < 4; i++) {
			leases.add(this.registry.tryAcquire("llama").orElseThrow());
		}
		assertThat(leases).extracting((l) -> l.endpoint().key())
			.containsExactlyInAnyOrder("default/a", "default/a", "default/b", "default/b");
		assertThat(this.registry.tryAcquire("llama")).isEmpty();
		leases.get(0).close();
		assertThat(this.registry.tryAcquire("llama")).isPresent();
	}

	@Test
	void closingALeaseTwiceFreesOneSlot() {
		this.cluster.upsert(InMemoryClusterView.pod("a", "llama", 2));
		EndpointLease first = this.registry.tryAcquire("llama").orElseThrow();
		this.registry.tryAcquire("llama").orElseThrow();
		first.close();
		first.close();
		assertThat(this.registry.pool("llama").get(0).inFlight()).isEqualTo(1);
	}

	@Test
	void drainsAPodThatIsNotReadyOrBeingDeleted() {
		InferencePod pod = InMemoryClusterView.pod("a", "llama", 2);
		this.cluster.upsert(pod);
		EndpointLease running = this.registry.tryAcquire("llama").orElseThrow();
		this.cluster.upsert(new InferencePod(pod.namespace(), pod.name(), pod.uid(), pod.model(), pod.nodeName(),
				pod.podIp(), pod.port(), pod.maxConcurrency(), pod.slices(), pod.priorityClass(), true, true));
		assertThat(this.registry.pool("llama").get(0).accepting()).isFalse();
		assertThat(this.registry.tryAcquire("llama")).isEmpty();
		running.close();
		assertThat(this.registry.pool("llama").get(0).inFlight()).isZero();
	}

	@Test
	void forgetsADeletedPodAndMovesARelabelledOne() {
		InferencePod pod = InMemoryClusterView.pod("a", "llama", 2);
		this.cluster.upsert(pod);
		this.cluster.upsert(InMemoryClusterView.pod("a", "qwen", 2));
		assertThat(this.registry.models()).containsExactly("qwen");
		this.cluster.remove(InMemoryClusterView.pod("a", "qwen", 2));
		assertThat(this.registry.models()).isEmpty();
		assertThat(this.registry.endpoints()).isEmpty();
	}

	@Test
	void concurrentAcquirersNeverExceedCapacity() throws Exception {
		for (int i = 0; i < 5; i++) {
			this.cluster.upsert(InMemoryClusterView.pod("p" + i, "llama", 3));
		}
		AtomicInteger maxSeen = new AtomicInteger();
		AtomicInteger held = new AtomicInteger();
		CountDownLatch start = new CountDownLatch(1);
		try (ExecutorService pool = Executors.newFixedThreadPool(16)) {
			for (int t = 0; t < 16; t++) {
				pool.submit(() -> {
					start.await();
					for (int i = 0; i < 2_000; i++) {
						Optional<EndpointLease> lease = this.registry.tryAcquire("llama");
						if (lease.isPresent()) {
							maxSeen.accumulateAndGet(held.incrementAndGet(), Math::max);
							held.decrementAndGet();
							lease.get().close();
						}
					}
					return null;
				});
			}
			start.countDown();
			pool.shutdown();
			assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
		}
		assertThat(maxSeen.get()).isLessThanOrEqualTo(15);
		assertThat(this.registry.endpoints()).allSatisfy((e) -> assertThat(e.inFlight()).isZero());
	}

}
