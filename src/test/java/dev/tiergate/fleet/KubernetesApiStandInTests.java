package dev.tiergate.fleet;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import io.kubernetes.client.common.KubernetesObject;
import io.kubernetes.client.custom.V1Patch;
import io.kubernetes.client.informer.ResourceEventHandler;
import io.kubernetes.client.informer.SharedIndexInformer;
import io.kubernetes.client.informer.SharedInformerFactory;
import io.kubernetes.client.informer.cache.Lister;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1NodeList;
import io.kubernetes.client.openapi.models.V1Pod;
import io.kubernetes.client.openapi.models.V1PodCondition;
import io.kubernetes.client.openapi.models.V1PodList;
import io.kubernetes.client.util.PatchUtils;
import io.kubernetes.client.util.Watch;
import io.kubernetes.client.util.Watchable;
import io.kubernetes.client.util.generic.GenericKubernetesApi;
import io.kubernetes.client.util.generic.KubernetesApiResponse;
import io.kubernetes.client.util.generic.options.ListOptions;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.awaitility.Awaitility.await;

/**
 * Tests for {@link KubernetesApiStandIn}, driven only through the official Kubernetes
 * client.
 */
class KubernetesApiStandInTests {

	private static final Duration EVENT_DEADLINE = Duration.ofSeconds(5);

	private static final String NAMESPACE = "inference";

	private static final Pattern DEFAULT_THREAD_NAME = Pattern.compile("pool-\\d+-thread-\\d+");

	private final KubernetesApiStandIn standIn = new KubernetesApiStandIn();

	private ApiClient apiClient;

	private CoreV1Api core;

	private SharedInformerFactory informers;

	private Set<Thread> threadsBeforeStart;

	@BeforeEach
	void start() {
		this.threadsBeforeStart = liveNonDaemonThreads();
		this.standIn.start();
		this.apiClient = this.standIn.apiClient();
		this.core = new CoreV1Api(this.apiClient);
		this.informers = new SharedInformerFactory(this.apiClient,
				Executors.newCachedThreadPool(Thread.ofPlatform().name("stand-in-test-informers-", 0).factory()),
				false);
	}

	@AfterEach
	void stop() {
		this.informers.stopAllRegisteredInformers(true);
		this.standIn.close();
	}

	@Test
	void apiClientTalksToTheFrontOnLoopback() {
		assertThat(this.standIn.url()).matches("http://127\\.0\\.0\\.1:\\d+");
		assertThat(this.apiClient.getBasePath()).isEqualTo(this.standIn.url());
		assertThat(this.apiClient.getHttpClient().readTimeoutMillis()).isZero();
	}

	@Test
	void createdGpuNodesAreListedByEqualityLabelSelector() throws ApiException {
		this.core.createNode(FleetObjects.gpuNode("gpu-a", "NVIDIA-A100-SXM4-80GB", 8, 1, "none", 81920)).execute();
		this.core.createNode(FleetObjects.gpuNode("gpu-b", "NVIDIA-L4-SHARED", 2, 4, "time-slicing", 23034)).execute();
		this.core.createNode(FleetObjects.gpuNode("gpu-c", "NVIDIA-H100-80GB-HBM3", 1, 7, "mps", 81559)).execute();

		V1NodeList all = this.core.listNode().execute();
		V1NodeList timeSliced = this.core.listNode()
			.labelSelector("nvidia.com/gpu.sharing-strategy=time-slicing")
			.execute();

		assertThat(all.getItems()).extracting((node) -> node.getMetadata().getName())
			.containsExactlyInAnyOrder("gpu-a", "gpu-b", "gpu-c");
		assertThat(timeSliced.getItems()).singleElement().satisfies((node) -> {
			assertThat(node.getMetadata().getName()).isEqualTo("gpu-b");
			assertThat(node.getMetadata().getLabels()).containsEntry("nvidia.com/gpu.replicas", "4")
				.containsEntry("nvidia.com/gpu.count", "2")
				.containsEntry("nvidia.com/gpu.product", "NVIDIA-L4-SHARED")
				.containsEntry("nvidia.com/gpu.memory", "23034")
				.containsEntry("nvidia.com/gpu.present", "true")
				.containsEntry("kubernetes.io/hostname", "gpu-b");
			assertThat(node.getStatus().getCapacity().get("nvidia.com/gpu").getNumber()).isEqualByComparingTo("8");
			assertThat(node.getStatus().getAllocatable().get("nvidia.com/gpu").getNumber()).isEqualByComparingTo("8");
			assertThat(node.getStatus().getConditions())
				.anySatisfy((condition) -> assertThat(condition.getType() + "=" + condition.getStatus())
					.isEqualTo("Ready=True"));
		});
	}

	@Test
	void createdInferencePodsAreListedByModelLabelAcrossNamespaces() throws ApiException {
		this.core.createNamespacedPod(NAMESPACE, pod("llama-0", "llama-3-8b", "10.0.0.10")).execute();
		this.core.createNamespacedPod(NAMESPACE, pod("llama-1", "llama-3-8b", "10.0.0.11")).execute();
		this.core
			.createNamespacedPod("batch",
					FleetObjects.inferencePod("batch", "llama-2", "llama-3-8b", "gpu-b", "10.0.1.12", 8000, 16, 1,
							"tiergate-p2"))
			.execute();
		this.core.createNamespacedPod(NAMESPACE, pod("qwen-0", "qwen-2-7b", "10.0.0.20")).execute();

		V1PodList llamas = this.core.listPodForAllNamespaces().labelSelector("tiergate.dev/model=llama-3-8b").execute();
		V1PodList llamasHere = this.core.listNamespacedPod(NAMESPACE)
			.labelSelector("tiergate.dev/model=llama-3-8b")
			.execute();

		assertThat(llamas.getItems()).extracting((pod) -> pod.getMetadata().getName())
			.containsExactlyInAnyOrder("llama-0", "llama-1", "llama-2");
		assertThat(llamasHere.getItems()).extracting((pod) -> pod.getMetadata().getName())
			.containsExactlyInAnyOrder("llama-0", "llama-1");
		assertThat(llamas.getItems()).filteredOn((pod) -> pod.getMetadata().getName().equals("llama-2"))
			.singleElement()
			.satisfies((pod) -> assertThat(pod.getSpec().getPriorityClassName()).isEqualTo("tiergate-p2"));
	}

	@Test
	void createdPodKeepsItsRunningReadyStatus() throws ApiException {
		this.core.createNamespacedPod(NAMESPACE, pod("llama-0", "llama-3-8b", "10.0.0.10")).execute();

		V1Pod read = this.core.readNamespacedPod("llama-0", NAMESPACE).execute();

		assertThat(read.getMetadata().getUid()).isNotBlank();
		assertThat(read.getMetadata().getResourceVersion()).isNotBlank();
		assertThat(read.getMetadata().getLabels()).containsEntry("tiergate.dev/model", "llama-3-8b")
			.containsEntry("app.kubernetes.io/name", "vllm");
		assertThat(read.getMetadata().getAnnotations()).containsEntry("tiergate.dev/max-concurrency", "32");
		assertThat(read.getSpec().getNodeName()).isEqualTo("gpu-a");
		assertThat(read.getSpec().getContainers()).singleElement().satisfies((container) -> {
			assertThat(container.getName()).isEqualTo("vllm");
			assertThat(container.getPorts()).singleElement()
				.satisfies((port) -> assertThat(port.getName() + ":" + port.getContainerPort()).isEqualTo("http:8000"));
			assertThat(container.getResources().getLimits().get("nvidia.com/gpu").getNumber())
				.isEqualByComparingTo("2");
			assertThat(container.getResources().getRequests().get("nvidia.com/gpu").getNumber())
				.isEqualByComparingTo("2");
		});
		assertThat(read.getStatus().getPhase()).isEqualTo("Running");
		assertThat(read.getStatus().getPodIP()).isEqualTo("10.0.0.10");
		assertThat(read.getStatus().getHostIP()).isNotBlank();
		assertThat(conditions(read)).containsEntry("Ready", "True").containsEntry("ContainersReady", "True");
	}

	@Test
	void jsonPatchOfPodStatusChangesReadiness() throws ApiException {
		this.core.createNamespacedPod(NAMESPACE, pod("llama-0", "llama-3-8b", "10.0.0.10")).execute();

		V1Pod patched = setReady("llama-0", false);

		assertThat(conditions(patched)).containsEntry("Ready", "False").containsEntry("ContainersReady", "False");
		assertThat(conditions(this.core.readNamespacedPod("llama-0", NAMESPACE).execute())).containsEntry("Ready",
				"False");
	}

	@Test
	void replaceOfPodStatusChangesReadiness() throws ApiException {
		V1Pod created = this.core.createNamespacedPod(NAMESPACE, pod("llama-0", "llama-3-8b", "10.0.0.10")).execute();
		created.getStatus().conditions(FleetObjects.podConditions(false));

		this.core.replaceNamespacedPodStatus("llama-0", NAMESPACE, created).execute();

		assertThat(conditions(this.core.readNamespacedPod("llama-0", NAMESPACE).execute())).containsEntry("Ready",
				"False");
	}

	/**
	 * Documents a limit of the stand-in (RFC 7386 says a merge patch replaces arrays):
	 * patch arrays with a JSON patch or a replace instead. When this test fails, the mock
	 * has been fixed; drop the caveat.
	 */
	@Test
	void mergePatchAppendsToArraysInsteadOfReplacingThem() throws ApiException {
		this.core.createNamespacedPod(NAMESPACE, pod("llama-0", "llama-3-8b", "10.0.0.10")).execute();

		V1Pod patched = PatchUtils
			.patch(V1Pod.class,
					() -> this.core
						.patchNamespacedPodStatus("llama-0", NAMESPACE,
								new V1Patch(
										"{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"}]}}"))
						.buildCall(null),
					V1Patch.PATCH_FORMAT_JSON_MERGE_PATCH, this.apiClient);

		assertThat(patched.getStatus().getConditions()).hasSize(5)
			.extracting((condition) -> condition.getType() + "=" + condition.getStatus())
			.containsSubsequence("Ready=True", "Ready=False");
	}

	@Test
	void mergePatchChangesANodeLabel() throws ApiException {
		this.core.createNode(FleetObjects.gpuNode("gpu-b", "NVIDIA-L4", 2, 1, "none", 23034)).execute();

		V1Node patched = PatchUtils.patch(V1Node.class,
				() -> this.core
					.patchNode("gpu-b",
							new V1Patch(
									"{\"metadata\":{\"labels\":{\"nvidia.com/device-plugin.config\":\"l4-ts-4\"}}}"))
					.buildCall(null),
				V1Patch.PATCH_FORMAT_JSON_MERGE_PATCH, this.apiClient);

		assertThat(patched.getMetadata().getLabels()).containsEntry("nvidia.com/device-plugin.config", "l4-ts-4")
			.containsEntry("nvidia.com/gpu.product", "NVIDIA-L4");
		assertThat(this.core.listNode().labelSelector("nvidia.com/device-plugin.config=l4-ts-4").execute().getItems())
			.extracting((node) -> node.getMetadata().getName())
			.containsExactly("gpu-b");
	}

	@Test
	void genericApiReadsAndPatchesNodes() {
		GenericKubernetesApi<V1Node, V1NodeList> nodes = new GenericKubernetesApi<>(V1Node.class, V1NodeList.class, "",
				"v1", "nodes", this.apiClient);
		assertThat(
				nodes.create(FleetObjects.gpuNode("gpu-a", "NVIDIA-A100-SXM4-80GB", 8, 1, "none", 81920)).isSuccess())
			.isTrue();
		ListOptions withGpus = new ListOptions();
		withGpus.setLabelSelector("nvidia.com/gpu.present=true");

		KubernetesApiResponse<V1NodeList> listed = nodes.list(withGpus);
		KubernetesApiResponse<V1Node> patched = nodes.patch("gpu-a", V1Patch.PATCH_FORMAT_JSON_PATCH, new V1Patch(
				"[{\"op\":\"replace\",\"path\":\"/metadata/labels/nvidia.com~1gpu.count\",\"value\":\"4\"}]"));

		assertThat(listed.getObject().getItems()).extracting((node) -> node.getMetadata().getName())
			.containsExactly("gpu-a");
		assertThat(patched.getObject().getMetadata().getLabels()).containsEntry("nvidia.com/gpu.count", "4");
	}

	@Test
	void podInformerSeesAddUpdateAndDeleteMadeAfterItSynced() throws ApiException {
		this.core.createNamespacedPod(NAMESPACE, pod("llama-0", "llama-3-8b", "10.0.0.10")).execute();
		SharedIndexInformer<V1Pod> pods = this.informers
			.sharedIndexInformerFor((params) -> this.core.listPodForAllNamespaces()
				.watch(params.watch)
				.resourceVersion(params.resourceVersion)
				.timeoutSeconds(params.timeoutSeconds)
				.buildCall(null), V1Pod.class, V1PodList.class);
		List<String> events = new CopyOnWriteArrayList<>();
		pods.addEventHandler(new RecordingHandler<>(events, (pod) -> pod.getMetadata().getName() + " "
				+ pod.getMetadata().getLabels().get("tiergate.dev/model") + " ready=" + conditions(pod).get("Ready")));
		Lister<V1Pod> lister = new Lister<>(pods.getIndexer());
		this.informers.startAllRegisteredInformers();
		await().atMost(EVENT_DEADLINE).until(pods::hasSynced);
		await().atMost(EVENT_DEADLINE).until(() -> this.standIn.openWatches() == 1);
		assertThat(events).containsExactly("added llama-0 llama-3-8b ready=True");

		this.core.createNamespacedPod(NAMESPACE, pod("llama-1", "llama-3-8b", "10.0.0.11")).execute();
		await().atMost(EVENT_DEADLINE).until(() -> events.contains("added llama-1 llama-3-8b ready=True"));
		assertThat(lister.namespace(NAMESPACE).get("llama-1").getStatus().getPodIP()).isEqualTo("10.0.0.11");

		PatchUtils.patch(V1Pod.class,
				() -> this.core
					.patchNamespacedPod("llama-1", NAMESPACE,
							new V1Patch("{\"metadata\":{\"labels\":{\"tiergate.dev/model\":\"llama-3-70b\"}}}"))
					.buildCall(null),
				V1Patch.PATCH_FORMAT_JSON_MERGE_PATCH, this.apiClient);
		await().atMost(EVENT_DEADLINE).until(() -> events.contains("updated llama-1 llama-3-70b ready=True"));

		setReady("llama-1", false);
		await().atMost(EVENT_DEADLINE).until(() -> events.contains("updated llama-1 llama-3-70b ready=False"));
		assertThat(conditions(lister.namespace(NAMESPACE).get("llama-1"))).containsEntry("Ready", "False");

		this.core.deleteNamespacedPod("llama-1", NAMESPACE).execute();
		await().atMost(EVENT_DEADLINE).until(() -> events.contains("deleted llama-1 llama-3-70b ready=False"));
		assertThat(lister.list()).extracting((pod) -> pod.getMetadata().getName()).containsExactly("llama-0");
	}

	@Test
	void nodeInformerSeesNodesAddedAndRelabelled() throws ApiException {
		SharedIndexInformer<V1Node> nodes = this.informers.sharedIndexInformerFor((params) -> this.core.listNode()
			.watch(params.watch)
			.resourceVersion(params.resourceVersion)
			.timeoutSeconds(params.timeoutSeconds)
			.buildCall(null), V1Node.class, V1NodeList.class);
		List<String> events = new CopyOnWriteArrayList<>();
		nodes.addEventHandler(new RecordingHandler<>(events, (node) -> node.getMetadata().getName() + " "
				+ node.getMetadata().getLabels().get("nvidia.com/gpu.sharing-strategy")));
		this.informers.startAllRegisteredInformers();
		await().atMost(EVENT_DEADLINE).until(nodes::hasSynced);
		await().atMost(EVENT_DEADLINE).until(() -> this.standIn.openWatches() == 1);

		this.core.createNode(FleetObjects.gpuNode("gpu-b", "NVIDIA-L4", 2, 1, "none", 23034)).execute();
		await().atMost(EVENT_DEADLINE).until(() -> events.contains("added gpu-b none"));
		PatchUtils.patch(V1Node.class, () -> this.core
			.patchNode("gpu-b",
					new V1Patch("{\"metadata\":{\"labels\":{\"nvidia.com/gpu.sharing-strategy\":\"time-slicing\","
							+ "\"nvidia.com/gpu.replicas\":\"4\",\"nvidia.com/gpu.product\":\"NVIDIA-L4-SHARED\"}}}"))
			.buildCall(null), V1Patch.PATCH_FORMAT_JSON_MERGE_PATCH, this.apiClient);

		await().atMost(EVENT_DEADLINE).until(() -> events.contains("updated gpu-b time-slicing"));
		assertThat(nodes.getIndexer().getByKey("gpu-b").getMetadata().getLabels())
			.containsEntry("nvidia.com/gpu.replicas", "4");
	}

	@Test
	void closingEndsEveryWatchStreamAndStopsTheStandInsThreads() {
		SharedIndexInformer<V1Pod> pods = this.informers
			.sharedIndexInformerFor((params) -> this.core.listPodForAllNamespaces()
				.watch(params.watch)
				.resourceVersion(params.resourceVersion)
				.timeoutSeconds(params.timeoutSeconds)
				.buildCall(null), V1Pod.class, V1PodList.class);
		this.informers.startAllRegisteredInformers();
		await().atMost(EVENT_DEADLINE).until(pods::hasSynced);
		await().atMost(EVENT_DEADLINE).until(() -> this.standIn.openWatches() == 1);

		this.informers.stopAllRegisteredInformers(true);
		this.standIn.close();

		assertThat(this.standIn.openWatches()).isZero();
		await().atMost(EVENT_DEADLINE)
			.pollInSameThread()
			.untilAsserted(() -> assertThat(threadsStartedSince(this.threadsBeforeStart)).isEmpty());
	}

	@Test
	void watchStreamsNewlineDelimitedEventsAndEndsWhenTheStandInCloses() throws Exception {
		GenericKubernetesApi<V1Pod, V1PodList> pods = new GenericKubernetesApi<>(V1Pod.class, V1PodList.class, "", "v1",
				"pods", this.apiClient);
		try (Watchable<V1Pod> watch = pods.watch(NAMESPACE, new ListOptions())) {
			await().atMost(EVENT_DEADLINE).until(() -> this.standIn.openWatches() == 1);
			this.core.createNamespacedPod(NAMESPACE, pod("llama-0", "llama-3-8b", "10.0.0.10")).execute();

			Watch.Response<V1Pod> added = watch.next();

			assertThat(added.type).isEqualTo("ADDED");
			assertThat(added.object.getMetadata().getName()).isEqualTo("llama-0");
			this.standIn.close();
			assertThat(this.standIn.openWatches()).isZero();
			assertThat(assertTimeoutPreemptively(EVENT_DEADLINE, () -> hasNextOrFails(watch))).isFalse();
		}
	}

	@Test
	void watchEqualsOneIsServedAsAWatch() throws Exception {
		this.core.createNode(FleetObjects.gpuNode("gpu-a", "NVIDIA-L4", 1, 1, "none", 23034)).execute();
		Request request = new Request.Builder().url(this.standIn.url() + "/api/v1/nodes?watch=1").build();

		try (Response response = this.apiClient.getHttpClient().newCall(request).execute()) {
			assertThat(response.code()).isEqualTo(200);
			assertThat(response.header("Content-Type")).isEqualTo("application/json");
			String line = response.body().source().readUtf8LineStrict();
			assertThat(line).startsWith("{").contains("\"ADDED\"").contains("\"gpu-a\"");
		}
	}

	@Test
	void strategicMergePatchIsRefusedSoCallersUseMergePatch() throws ApiException {
		this.core.createNode(FleetObjects.gpuNode("gpu-b", "NVIDIA-L4", 2, 1, "none", 23034)).execute();

		assertThatExceptionOfType(ApiException.class)
			.isThrownBy(() -> PatchUtils.patch(V1Node.class,
					() -> this.core.patchNode("gpu-b", new V1Patch("{\"metadata\":{\"labels\":{\"a\":\"b\"}}}"))
						.buildCall(null),
					V1Patch.PATCH_FORMAT_STRATEGIC_MERGE_PATCH, this.apiClient))
			.satisfies((ex) -> assertThat(ex.getCode()).isEqualTo(415));
	}

	private static boolean hasNextOrFails(Watchable<?> watch) {
		try {
			return watch.hasNext();
		}
		catch (RuntimeException ex) {
			return false;
		}
	}

	private static V1Pod pod(String name, String model, String podIp) {
		return FleetObjects.inferencePod(NAMESPACE, name, model, "gpu-a", podIp, 8000, 32, 2);
	}

	/**
	 * Flips readiness with a JSON patch of {@code /status}: the stand-in's merge patch
	 * appends to arrays.
	 */
	private V1Pod setReady(String name, boolean ready) throws ApiException {
		String conditions = this.apiClient.getJSON().serialize(FleetObjects.podConditions(ready));
		return PatchUtils.patch(V1Pod.class,
				() -> this.core
					.patchNamespacedPodStatus(name, NAMESPACE,
							new V1Patch("[{\"op\":\"replace\",\"path\":\"/status/conditions\",\"value\":" + conditions
									+ "}]"))
					.buildCall(null),
				V1Patch.PATCH_FORMAT_JSON_PATCH, this.apiClient);
	}

	private static Map<String, String> conditions(V1Pod pod) {
		List<V1PodCondition> conditions = (pod.getStatus() != null && pod.getStatus().getConditions() != null)
				? pod.getStatus().getConditions() : List.of();
		return conditions.stream().collect(Collectors.toMap(V1PodCondition::getType, V1PodCondition::getStatus));
	}

	/**
	 * The live non-daemon threads this test class can have started that were not alive
	 * before, each with its stack, so that a failure shows what still runs. Threads with
	 * the JDK's default names ({@code pool-N-thread-M}) are left out: nothing here starts
	 * one (the informer factory runs on a named pool, and an informer without handlers
	 * starts no processor thread), while a component left running by an earlier test
	 * class in the same JVM can start one at any moment; CI once failed on such a thread.
	 */
	private static Map<String, String> threadsStartedSince(Set<Thread> before) {
		return liveNonDaemonThreads().stream()
			.filter((thread) -> !before.contains(thread))
			.filter((thread) -> !DEFAULT_THREAD_NAME.matcher(thread.getName()).matches())
			.collect(Collectors.toMap(Thread::toString,
					(thread) -> Arrays.stream(thread.getStackTrace())
						.map(StackTraceElement::toString)
						.collect(Collectors.joining("\n\tat ", "\tat ", ""))));
	}

	/**
	 * Live platform threads that would keep a JVM from exiting, except Awaitility's own.
	 */
	private static Set<Thread> liveNonDaemonThreads() {
		return Thread.getAllStackTraces()
			.keySet()
			.stream()
			.filter(Predicate.not(Thread::isDaemon))
			.filter(Thread::isAlive)
			.filter((thread) -> !thread.getName().startsWith("awaitility"))
			.collect(Collectors.toSet());
	}

	/**
	 * Records each event as {@code added|updated|deleted <description>}.
	 */
	private record RecordingHandler<T extends KubernetesObject>(List<String> events,
			Function<T, String> description) implements ResourceEventHandler<T> {

		@Override
		public void onAdd(T object) {
			this.events.add("added " + this.description.apply(object));
		}

		@Override
		public void onUpdate(T previous, T current) {
			this.events.add("updated " + this.description.apply(current));
		}

		@Override
		public void onDelete(T object, boolean finalStateUnknown) {
			this.events.add("deleted " + this.description.apply(object));
		}

	}

}
