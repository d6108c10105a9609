package dev.tiergate.cluster.internal;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.tiergate.cluster.ClusterProperties;
import dev.tiergate.cluster.InferencePod;
import dev.tiergate.fleet.FleetObjects;
import dev.tiergate.fleet.KubernetesApiStandIn;
import dev.tiergate.routing.Endpoint;
import dev.tiergate.routing.EndpointRegistry;
import dev.tiergate.routing.RoutingProperties;
import io.kubernetes.client.custom.V1Patch;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1Namespace;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.util.PatchUtils;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Tests for {@link InformerClusterView} and the endpoint registry it feeds, against the
 * Kubernetes API stand-in through the official client: the registry follows pods within a
 * second.
 */
class InformerClusterViewTests {

	private static final Duration WITHIN = Duration.ofSeconds(1);

	private final KubernetesApiStandIn api = new KubernetesApiStandIn().start();

	private final ApiClient client = this.api.apiClient();

	private final CoreV1Api core = new CoreV1Api(this.client);

	private InformerClusterView view;

	private EndpointRegistry registry;

	@BeforeEach
	void createNamespaces() throws Exception {
		for (String ns : List.of("ml", "other")) {
			this.core
				.createNamespace(
						new V1Namespace().apiVersion("v1").kind("Namespace").metadata(new V1ObjectMeta().name(ns)))
				.execute();
		}
		this.core.createNode(FleetObjects.gpuNode("gpu-1", "NVIDIA-A100-SXM4-80GB", 4, 4, "mps", 81920)).execute();
		this.core
			.createNamespacedPod("ml",
					FleetObjects.inferencePod("ml", "llama-0", "llama", "gpu-1", "10.0.0.1", 8000, 8, 1))
			.execute();
	}

	private void startView(List<String> namespaces) {
		startView(namespaces, "", "");
	}

	private void startView(List<String> namespaces, String requiredLabel, String requiredAnnotation) {
		ClusterProperties properties = new ClusterProperties(this.api.url(), namespaces, "tiergate.dev/model",
				Duration.ofMinutes(5), Duration.ofSeconds(2), 8000, requiredLabel, requiredAnnotation,
				Duration.ofSeconds(10));
		this.view = new InformerClusterView(new KubernetesClientConfiguration().kubernetesApiClient(properties),
				properties);
		this.registry = new EndpointRegistry(this.view, RoutingProperties.withSlots(16, java.util.Map.of()));
		this.view.start();
		await().atMost(Duration.ofSeconds(10)).until(this.view::synced);
		await().atMost(Duration.ofSeconds(5)).until(() -> this.api.openWatches() == 2);
	}

	@AfterEach
	void stop() {
		if (this.view != null) {
			this.view.stop();
		}
		this.api.close();
	}

	private Endpoint endpoint(String key) {
		return this.registry.endpoints().stream().filter((e) -> e.key().equals(key)).findFirst().orElse(null);
	}

	@Test
	void withASecondGateOnlyPodsThePlatformTeamMarkedReceiveRequests() throws Exception {
		startView(List.of("ml"), "", "platform.example/approved=true");
		// llama-0 carries the model label only: anyone who may create pods could have set
		// it.
		io.kubernetes.client.openapi.models.V1Pod marked = FleetObjects.inferencePod("ml", "llama-1", "llama", "gpu-1",
				"10.0.0.2", 8000, 4, 1);
		marked.getMetadata()
			.annotations(new java.util.HashMap<>(
					java.util.Objects.requireNonNullElse(marked.getMetadata().getAnnotations(), java.util.Map.of())))
			.putAnnotationsItem("platform.example/approved", "true");
		this.core.createNamespacedPod("ml", marked).execute();
		await().atMost(WITHIN).until(() -> endpoint("ml/llama-1") != null);
		assertThat(endpoint("ml/llama-0")).isNull();
		assertThat(this.view.inferencePods()).extracting(InferencePod::key).containsExactly("ml/llama-1");
		// The mark taken away: the pod stops receiving requests.
		PatchUtils.patch(io.kubernetes.client.openapi.models.V1Pod.class,
				() -> this.core
					.patchNamespacedPod("llama-1", "ml",
							new V1Patch("{\"metadata\":{\"annotations\":{\"platform.example/approved\":\"no\"}}}"))
					.buildCall(null),
				V1Patch.PATCH_FORMAT_JSON_MERGE_PATCH, this.client);
		await().atMost(WITHIN).until(() -> endpoint("ml/llama-1") == null);
	}

	@Test
	void podGateParsesKeysAndValues() {
		V1ObjectMeta meta = new V1ObjectMeta().putLabelsItem("team", "platform")
			.putAnnotationsItem("platform.example/approved", "true");
		assertThat(PodGate.NONE.admits(new V1ObjectMeta())).isTrue();
		assertThat(PodGate.of("team", "").admits(meta)).isTrue();
		assertThat(PodGate.of("team=platform", "platform.example/approved=true").admits(meta)).isTrue();
		assertThat(PodGate.of("team=ml", "").admits(meta)).isFalse();
		assertThat(PodGate.of("", "platform.example/approved=false").admits(meta)).isFalse();
		assertThat(PodGate.of("owner", "").admits(meta)).isFalse();
		assertThat(PodGate.of("team=platform", "a=b").describe()).isEqualTo("label team=platform and annotation a=b");
	}

	@Test
	void seesNodesAndPodsThatExistedBeforeItStarted() {
		startView(List.of());
		assertThat(this.view.nodes()).singleElement().satisfies((node) -> {
			assertThat(node.sliceCapacity()).isEqualTo(16);
			assertThat(node.sharingStrategy()).isEqualTo("mps");
		});
		assertThat(this.view.inferencePods()).extracting(InferencePod::key).containsExactly("ml/llama-0");
		assertThat(endpoint("ml/llama-0").baseUri().toString()).isEqualTo("http://10.0.0.1:8000");
	}

	@Test
	void startsAgainAfterStopAsAPausedTestContextDoes() throws Exception {
		startView(List.of());
		this.view.stop();
		this.core
			.createNamespacedPod("ml",
					FleetObjects.inferencePod("ml", "llama-2", "llama", "gpu-1", "10.0.0.3", 8000, 8, 1))
			.execute();

		this.view.start();

		await().atMost(Duration.ofSeconds(10)).until(this.view::synced);
		await().atMost(WITHIN).until(() -> endpoint("ml/llama-2") != null);
		assertThat(this.view.inferencePods()).extracting(InferencePod::key).containsExactly("ml/llama-0", "ml/llama-2");
	}

	@Test
	void followsAPodThatIsAddedMadeUnreadyAndDeleted() throws Exception {
		startView(List.of());
		this.core
			.createNamespacedPod("ml",
					FleetObjects.inferencePod("ml", "llama-1", "llama", "gpu-1", "10.0.0.2", 8000, 4, 1))
			.execute();
		await().atMost(WITHIN).until(() -> endpoint("ml/llama-1") != null && endpoint("ml/llama-1").accepting());
		assertThat(endpoint("ml/llama-1").slots()).isEqualTo(4);

		PatchUtils.patch(io.kubernetes.client.openapi.models.V1Pod.class,
				() -> this.core
					.patchNamespacedPodStatus("llama-1", "ml",
							new V1Patch("[{\"op\":\"replace\",\"path\":\"/status/conditions\",\"value\":"
									+ this.client.getJSON().serialize(FleetObjects.podConditions(false)) + "}]"))
					.buildCall(null),
				V1Patch.PATCH_FORMAT_JSON_PATCH, this.client);
		await().atMost(WITHIN).until(() -> !endpoint("ml/llama-1").accepting());
		assertThat(endpoint("ml/llama-0").accepting()).isTrue();

		this.core.deleteNamespacedPod("llama-1", "ml").execute();
		await().atMost(WITHIN).until(() -> endpoint("ml/llama-1") == null);
	}

	@Test
	void aPodWithADeletionTimestampTakesNoNewRequest() throws Exception {
		var pod = FleetObjects.inferencePod("ml", "llama-9", "llama", "gpu-1", "10.0.0.9", 8000, 8, 1);
		pod.getMetadata().addFinalizersItem("tiergate.dev/test");
		this.core.deleteNamespacedPod("llama-0", "ml").execute();
		this.core.createNamespacedPod("ml", pod).execute();
		startView(List.of());
		await().atMost(WITHIN).until(() -> endpoint("ml/llama-9") != null && endpoint("ml/llama-9").accepting());
		// With a finalizer, deleting only marks the pod (deletionTimestamp), as when a
		// higher-priority pod evicts it.
		this.core.deleteNamespacedPod("llama-9", "ml").execute();
		await().atMost(WITHIN).until(() -> endpoint("ml/llama-9") != null && !endpoint("ml/llama-9").accepting());
		assertThat(this.registry.pool("llama")).noneMatch(Endpoint::accepting);
	}

	@Test
	void theDispatcherSendsNoNewRequestToAPodWithADeletionTimestamp() throws Exception {
		var pod = FleetObjects.inferencePod("ml", "llama-9", "llama", "gpu-1", "10.0.0.9", 8000, 8, 1);
		pod.getMetadata().addFinalizersItem("tiergate.dev/test");
		this.core.createNamespacedPod("ml", pod).execute();
		startView(List.of());
		dev.tiergate.dispatch.DispatchRuntime dispatcher = new dev.tiergate.dispatch.DispatchRuntime(this.registry,
				new dev.tiergate.tier.Tiers(dev.tiergate.tier.TierProperties.DEFAULTS),
				new dev.tiergate.dispatch.DispatchProperties(2, 10_000, Duration.ofSeconds(1)),
				java.time.Clock.systemUTC(), new io.micrometer.core.instrument.simple.SimpleMeterRegistry());
		await().atMost(WITHIN).until(() -> endpoint("ml/llama-9") != null && endpoint("ml/llama-9").accepting());
		// A request in flight on llama-9 while it is being deleted, as when a
		// higher-priority pod evicts it.
		dev.tiergate.dispatch.Admission running = admitOn(dispatcher, "ml/llama-9");
		this.core.deleteNamespacedPod("llama-9", "ml").execute();
		await().atMost(WITHIN).until(() -> !endpoint("ml/llama-9").accepting());

		for (int i = 0; i < 10; i++) {
			try (dev.tiergate.dispatch.Admission admission = dispatcher.admit("llama", dev.tiergate.tier.Tier.P1, "t",
					1, 10)) {
				assertThat(((Endpoint) admission.awaitSlot().endpoint()).key()).isEqualTo("ml/llama-0");
			}
		}
		// The request already running on it finishes normally and frees its slot.
		assertThat(endpoint("ml/llama-9").inFlight()).isEqualTo(1);
		running.close();
		assertThat(endpoint("ml/llama-9").inFlight()).isZero();
	}

	private dev.tiergate.dispatch.Admission admitOn(dev.tiergate.dispatch.DispatchRuntime dispatcher, String key)
			throws Exception {
		List<dev.tiergate.dispatch.Admission> others = new java.util.ArrayList<>();
		try {
			while (true) {
				dev.tiergate.dispatch.Admission admission = dispatcher.admit("llama", dev.tiergate.tier.Tier.P1, "t", 1,
						10);
				if (((Endpoint) admission.awaitSlot().endpoint()).key().equals(key)) {
					return admission;
				}
				others.add(admission);
			}
		}
		finally {
			others.forEach(dev.tiergate.dispatch.Admission::close);
		}
	}

	@Test
	void aRelabelledPodMovesToItsNewPoolAndAnUnlabelledOneLeaves() throws Exception {
		startView(List.of());
		PatchUtils.patch(io.kubernetes.client.openapi.models.V1Pod.class,
				() -> this.core
					.patchNamespacedPod("llama-0", "ml",
							new V1Patch("{\"metadata\":{\"labels\":{\"tiergate.dev/model\":\"qwen\"}}}"))
					.buildCall(null),
				V1Patch.PATCH_FORMAT_JSON_MERGE_PATCH, this.client);
		await().atMost(WITHIN).until(() -> this.registry.models().equals(new java.util.TreeSet<>(List.of("qwen"))));
		PatchUtils.patch(io.kubernetes.client.openapi.models.V1Pod.class,
				() -> this.core
					.patchNamespacedPod("llama-0", "ml",
							new V1Patch("{\"metadata\":{\"labels\":{\"tiergate.dev/model\":null}}}"))
					.buildCall(null),
				V1Patch.PATCH_FORMAT_JSON_MERGE_PATCH, this.client);
		await().atMost(WITHIN).until(() -> this.registry.models().isEmpty());
	}

	@Test
	void watchesOnlyTheConfiguredNamespaces() throws Exception {
		this.core
			.createNamespacedPod("other",
					FleetObjects.inferencePod("other", "llama-x", "llama", "gpu-1", "10.0.0.9", 8000, 8, 1))
			.execute();
		startView(List.of("ml"));
		assertThat(this.view.inferencePods()).extracting(InferencePod::key).containsExactly("ml/llama-0");
		this.core
			.createNamespacedPod("ml",
					FleetObjects.inferencePod("ml", "llama-2", "llama", "gpu-1", "10.0.0.3", 8000, 8, 1))
			.execute();
		await().atMost(WITHIN).until(() -> endpoint("ml/llama-2") != null);
		assertThat(endpoint("other/llama-x")).isNull();
	}

}
