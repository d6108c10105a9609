package dev.tiergate.cluster.internal;

import java.io.StringReader;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.k3s.K3sContainer;
import org.testcontainers.utility.DockerImageName;

import dev.tiergate.cluster.ClusterProperties;
import dev.tiergate.routing.Endpoint;
import dev.tiergate.routing.EndpointRegistry;
import dev.tiergate.routing.RoutingProperties;
import io.kubernetes.client.custom.V1Patch;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1Container;
import io.kubernetes.client.openapi.models.V1ContainerPort;
import io.kubernetes.client.openapi.models.V1Namespace;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1Pod;
import io.kubernetes.client.openapi.models.V1PodSpec;
import io.kubernetes.client.util.Config;
import io.kubernetes.client.util.PatchUtils;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The same registry as {@link InformerClusterViewTests}, against a real Kubernetes (k3s)
 * where Docker exists: real kubelet readiness, real deletion with a grace period,
 * relabelling. Skipped without Docker; the behaviour is also covered against the API
 * stand-in.
 */
@Testcontainers(disabledWithoutDocker = true)
class K3sEndpointRegistryTests {

	private static final Duration WITHIN = Duration.ofSeconds(1);

	@Container
	static final K3sContainer k3s = new K3sContainer(DockerImageName.parse("rancher/k3s:v1.31.4-k3s1"));

	private ApiClient client;

	private CoreV1Api core;

	private InformerClusterView view;

	private EndpointRegistry registry;

	@BeforeEach
	void start() throws Exception {
		this.client = Config.fromConfig(new StringReader(k3s.getKubeConfigYaml()));
		this.core = new CoreV1Api(this.client);
		this.core.createNamespace(new V1Namespace().metadata(new V1ObjectMeta().name("ml"))).execute();
		ClusterProperties properties = new ClusterProperties(this.client.getBasePath(), List.of("ml"),
				"tiergate.dev/model", Duration.ofMinutes(5), Duration.ofSeconds(5), 8000);
		this.view = new InformerClusterView(this.client, properties);
		this.registry = new EndpointRegistry(this.view, RoutingProperties.withSlots(16, Map.of()));
		this.view.start();
		await().atMost(Duration.ofSeconds(30)).until(this.view::synced);
	}

	@AfterEach
	void stop() throws Exception {
		this.view.stop();
		this.core.deleteNamespace("ml").execute();
	}

	private Endpoint endpoint(String key) {
		return this.registry.endpoints().stream().filter((e) -> e.key().equals(key)).findFirst().orElse(null);
	}

	private static V1Pod pod(String name, String model) {
		// A pause container: Ready as soon as it runs (no probe), with a port named http.
		return new V1Pod()
			.metadata(new V1ObjectMeta().name(name)
				.putLabelsItem("tiergate.dev/model", model)
				.putAnnotationsItem("tiergate.dev/max-concurrency", "4"))
			.spec(new V1PodSpec().terminationGracePeriodSeconds(30L)
				.addContainersItem(new V1Container().name("server")
					.image("registry.k8s.io/pause:3.10")
					.addPortsItem(new V1ContainerPort().name("http").containerPort(8080))));
	}

	@Test
	void followsARealPodFromReadyThroughRelabellingToDeletion() throws Exception {
		this.core.createNamespacedPod("ml", pod("llama-0", "llama")).execute();
		// Scheduling and pulling the image take a while; readiness then reaches the
		// registry within a second.
		await().atMost(Duration.ofMinutes(3))
			.until(() -> endpoint("ml/llama-0") != null && endpoint("ml/llama-0").accepting());
		Endpoint endpoint = endpoint("ml/llama-0");
		assertThat(endpoint.slots()).isEqualTo(4);
		assertThat(endpoint.baseUri().getPort()).isEqualTo(8080);
		assertThat(endpoint.node()).isNotEmpty();

		PatchUtils.patch(V1Pod.class,
				() -> this.core
					.patchNamespacedPod("llama-0", "ml",
							new V1Patch("{\"metadata\":{\"labels\":{\"tiergate.dev/model\":\"qwen\"}}}"))
					.buildCall(null),
				V1Patch.PATCH_FORMAT_JSON_MERGE_PATCH, this.client);
		await().atMost(WITHIN)
			.until(() -> this.registry.pool("qwen").size() == 1 && this.registry.pool("llama").isEmpty());

		// A real deletion with a grace period: the pod keeps running, with a deletion
		// timestamp, and takes no new
		// request from the moment the deletion is seen.
		this.core.deleteNamespacedPod("llama-0", "ml").execute();
		await().atMost(WITHIN).until(() -> endpoint("ml/llama-0") == null || !endpoint("ml/llama-0").accepting());
		await().atMost(Duration.ofSeconds(60)).until(() -> endpoint("ml/llama-0") == null);
	}

}
