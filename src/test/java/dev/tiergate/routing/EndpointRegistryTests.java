package dev.tiergate.routing;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.tiergate.cluster.InMemoryClusterView;
import dev.tiergate.cluster.InferencePod;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link EndpointRegistry}.
 */
class EndpointRegistryTests {

	private final InMemoryClusterView cluster = new InMemoryClusterView();

	private final EndpointRegistry registry = new EndpointRegistry(this.cluster,
			RoutingProperties.withSlots(4, Map.of("big", 2)));

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
	void anAnnotationAboveTheLimitIsRefusedWithAWarningOnTheEndpoint() {
		this.cluster.upsert(InMemoryClusterView.pod("a", "llama", Integer.MAX_VALUE));
		this.cluster.upsert(InMemoryClusterView.pod("b", "big", 1_000_000));
		this.cluster.upsert(InMemoryClusterView.pod("c", "llama", 256));
		Endpoint a = this.registry.pool("llama").get(0);
		assertThat(a.slots()).isEqualTo(4);
		assertThat(a.warning()).contains("tiergate.dev/max-concurrency")
			.contains(Integer.toString(Integer.MAX_VALUE))
			.contains("256");
		assertThat(this.registry.pool("big").get(0).slots()).isEqualTo(2);
		Endpoint c = this.registry.pool("llama").get(1);
		assertThat(c.slots()).isEqualTo(256);
		assertThat(c.warning()).isNull();
		this.cluster.upsert(InMemoryClusterView.pod("a", "llama", 8));
		assertThat(a.slots()).isEqualTo(8);
		assertThat(a.warning()).isNull();
	}

	@Test
	void listenersHearOfEveryEndpointAndEveryChange() {
		this.cluster.upsert(InMemoryClusterView.pod("a", "llama", 2));
		List<String> events = new ArrayList<>();
		this.registry.addListener(new EndpointRegistry.EndpointListener() {

			@Override
			public void upserted(Endpoint endpoint) {
				events.add("+" + endpoint.key() + ":" + endpoint.model() + ":" + endpoint.accepting());
			}

			@Override
			public void removed(Endpoint endpoint) {
				events.add("-" + endpoint.key() + ":" + endpoint.model());
			}

		});
		this.cluster.upsert(InMemoryClusterView.pod("b", "llama", 2));
		this.cluster.upsert(InMemoryClusterView.pod("a", "qwen", 2));
		this.cluster.remove(InMemoryClusterView.pod("b", "llama", 2));
		assertThat(events).containsExactly("+default/a:llama:true", "+default/b:llama:true", "-default/a:llama",
				"+default/a:qwen:true", "-default/b:llama");
	}

	@Test
	void inFlightCountsFollowLeases() {
		this.cluster.upsert(InMemoryClusterView.pod("a", "llama", 2));
		this.cluster.upsert(InMemoryClusterView.pod("b", "llama", 2));
		Endpoint endpoint = this.registry.pool("llama").get(0);
		endpoint.leaseStarted();
		endpoint.leaseStarted();
		endpoint.leaseEnded();
		assertThat(endpoint.inFlight()).isEqualTo(1);
		assertThat(this.registry.inFlight()).isEqualTo(1);
		assertThat(this.registry.count(true)).isEqualTo(2);
		InferencePod b = InMemoryClusterView.pod("b", "llama", 2);
		this.cluster.upsert(new InferencePod(b.namespace(), b.name(), b.uid(), b.model(), b.nodeName(), b.podIp(),
				b.port(), b.maxConcurrency(), b.slices(), b.priorityClass(), false, false));
		assertThat(this.registry.count(true)).isEqualTo(1);
		assertThat(this.registry.count(false)).isEqualTo(2);
	}

	@Test
	void drainsAPodThatIsNotReadyOrBeingDeleted() {
		InferencePod pod = InMemoryClusterView.pod("a", "llama", 2);
		this.cluster.upsert(pod);
		this.cluster.upsert(new InferencePod(pod.namespace(), pod.name(), pod.uid(), pod.model(), pod.nodeName(),
				pod.podIp(), pod.port(), pod.maxConcurrency(), pod.slices(), pod.priorityClass(), true, true));
		assertThat(this.registry.pool("llama").get(0).accepting()).isFalse();
		assertThat(this.registry.pool("llama")).as("kept, draining").hasSize(1);
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

}
