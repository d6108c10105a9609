package dev.tiergate.cluster.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

import dev.tiergate.cluster.ClusterProperties;
import dev.tiergate.cluster.ClusterView;
import dev.tiergate.cluster.GpuNode;
import dev.tiergate.cluster.InferencePod;
import io.kubernetes.client.informer.ResourceEventHandler;
import io.kubernetes.client.informer.SharedIndexInformer;
import io.kubernetes.client.informer.SharedInformerFactory;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1NodeList;
import io.kubernetes.client.openapi.models.V1Pod;
import io.kubernetes.client.openapi.models.V1PodList;

/**
 * The {@link ClusterView} kept by client-java informers: one node informer, and one pod
 * informer for all namespaces or one per configured namespace (a
 * {@link SharedInformerFactory} holds one informer per type, so each watched namespace
 * gets its own factory).
 */
class InformerClusterView implements ClusterView, SmartLifecycle {

	private static final Logger logger = LoggerFactory.getLogger(InformerClusterView.class);

	private final ApiClient client;

	private final ClusterProperties properties;

	private final PodGate gate;

	private final List<PodListener> listeners = new CopyOnWriteArrayList<>();

	private volatile Informers informers;

	private volatile boolean running;

	private boolean stopped;

	InformerClusterView(ApiClient client, ClusterProperties properties) {
		this.client = client;
		this.properties = properties;
		this.gate = PodGate.of(properties.requiredPodLabel(), properties.requiredPodAnnotation());
		if (properties.allNamespaces()) {
			logger.warn(
					"Watching every namespace: any pod labelled {}{} receives tenants' prompts; "
							+ "set tiergate.cluster.namespaces to the namespaces only the platform team deploys to",
					properties.modelLabel(), this.gate.describe().isEmpty() ? "" : " with " + this.gate.describe());
		}
		this.informers = new Informers();
	}

	/**
	 * One set of informers. Stopping shuts their threads down for good, so a restart (a
	 * paused test context, for one) builds a new set.
	 */
	private final class Informers {

		private final List<SharedInformerFactory> factories = new ArrayList<>();

		private final SharedIndexInformer<V1Node> nodeInformer;

		private final List<SharedIndexInformer<V1Pod>> podInformers = new ArrayList<>();

		Informers() {
			ApiClient client = InformerClusterView.this.client;
			ClusterProperties properties = InformerClusterView.this.properties;
			CoreV1Api api = new CoreV1Api(client);
			long resync = properties.resync().toMillis();
			// The existence selector narrows the list on a real API server; the handler
			// filters again because not
			// every API server implementation honours set-based selectors.
			String selector = properties.modelLabel();
			SharedInformerFactory nodeFactory = new SharedInformerFactory(client);
			this.factories.add(nodeFactory);
			this.nodeInformer = nodeFactory.sharedIndexInformerFor(
					(params) -> api.listNode()
						.resourceVersion(params.resourceVersion)
						.timeoutSeconds(params.timeoutSeconds)
						.watch(params.watch)
						.buildCall(null),
					V1Node.class, V1NodeList.class, resync, InformerClusterView.this::informerError);
			if (properties.allNamespaces()) {
				SharedInformerFactory factory = new SharedInformerFactory(client);
				this.factories.add(factory);
				this.podInformers.add(factory.sharedIndexInformerFor(
						(params) -> api.listPodForAllNamespaces()
							.labelSelector(selector)
							.resourceVersion(params.resourceVersion)
							.timeoutSeconds(params.timeoutSeconds)
							.watch(params.watch)
							.buildCall(null),
						V1Pod.class, V1PodList.class, resync, InformerClusterView.this::informerError));
			}
			else {
				for (String namespace : properties.namespaces()
					.stream()
					.filter((n) -> !n.isBlank())
					.distinct()
					.toList()) {
					SharedInformerFactory factory = new SharedInformerFactory(client);
					this.factories.add(factory);
					this.podInformers.add(factory.sharedIndexInformerFor(
							(params) -> api.listNamespacedPod(namespace)
								.labelSelector(selector)
								.resourceVersion(params.resourceVersion)
								.timeoutSeconds(params.timeoutSeconds)
								.watch(params.watch)
								.buildCall(null),
							V1Pod.class, V1PodList.class, resync, InformerClusterView.this::informerError));
				}
			}
			this.podInformers.forEach((informer) -> informer.addEventHandler(new PodHandler()));
		}

	}

	private void informerError(Class<?> type, Throwable ex) {
		logger.warn("Informer for {} failed, it will retry: {}", type.getSimpleName(), ex.toString());
	}

	@Override
	public List<GpuNode> nodes() {
		return this.informers.nodeInformer.getIndexer()
			.list()
			.stream()
			.map(KubernetesObjects::node)
			.sorted(Comparator.comparing(GpuNode::name))
			.toList();
	}

	@Override
	public List<InferencePod> inferencePods() {
		return this.informers.podInformers.stream()
			.flatMap((informer) -> informer.getIndexer().list().stream())
			.map(this::toPod)
			.filter((pod) -> !pod.model().isEmpty())
			.sorted(Comparator.comparing(InferencePod::key))
			.toList();
	}

	@Override
	public boolean synced() {
		Informers current = this.informers;
		return this.running && current.nodeInformer.hasSynced()
				&& current.podInformers.stream().allMatch(SharedIndexInformer::hasSynced);
	}

	@Override
	public void addPodListener(PodListener listener) {
		this.listeners.add(listener);
		inferencePods().forEach(listener::upserted);
	}

	private InferencePod toPod(V1Pod pod) {
		InferencePod inference = KubernetesObjects.pod(pod, this.properties.modelLabel(),
				this.properties.defaultPort());
		if (inference.model().isEmpty() || this.gate.admits(pod.getMetadata())) {
			return inference;
		}
		// Labelled, but without the platform team's mark: not an inference pod.
		return KubernetesObjects.pod(pod, "", this.properties.defaultPort());
	}

	@Override
	public synchronized void start() {
		if (this.running) {
			return;
		}
		if (this.stopped) {
			this.informers = new Informers();
			this.stopped = false;
		}
		this.informers.factories.forEach(SharedInformerFactory::startAllRegisteredInformers);
		this.running = true;
	}

	@Override
	public synchronized void stop() {
		this.running = false;
		this.stopped = true;
		this.informers.factories.forEach((factory) -> factory.stopAllRegisteredInformers(true));
	}

	@Override
	public boolean isRunning() {
		return this.running;
	}

	/**
	 * Started before the web server and everything that routes, stopped after them (and
	 * after the replica has given back its slots, {@code DEFAULT_PHASE - 4096}): while a
	 * replica drains on shutdown, the requests it lets finish and the ones it still takes
	 * are routed on a view that keeps following the cluster.
	 * @return the phase
	 */
	@Override
	public int getPhase() {
		return SmartLifecycle.DEFAULT_PHASE - 8192;
	}

	private final class PodHandler implements ResourceEventHandler<V1Pod> {

		@Override
		public void onAdd(V1Pod obj) {
			InferencePod pod = toPod(obj);
			if (pod.model().isEmpty() && !KubernetesObjects
				.pod(obj, InformerClusterView.this.properties.modelLabel(),
						InformerClusterView.this.properties.defaultPort())
				.model()
				.isEmpty()) {
				logger.warn("Pod {} is labelled {} but lacks the required {}: it receives no requests", pod.key(),
						InformerClusterView.this.properties.modelLabel(), InformerClusterView.this.gate.describe());
			}
			if (!pod.model().isEmpty()) {
				InformerClusterView.this.listeners.forEach((l) -> l.upserted(pod));
			}
		}

		@Override
		public void onUpdate(V1Pod oldObj, V1Pod newObj) {
			InferencePod before = toPod(oldObj);
			InferencePod after = toPod(newObj);
			if (!before.model().isEmpty() && !before.model().equals(after.model())) {
				InformerClusterView.this.listeners.forEach((l) -> l.removed(before));
			}
			if (!after.model().isEmpty()) {
				InformerClusterView.this.listeners.forEach((l) -> l.upserted(after));
			}
		}

		@Override
		public void onDelete(V1Pod obj, boolean deletedFinalStateUnknown) {
			InferencePod pod = toPod(obj);
			if (!pod.model().isEmpty()) {
				InformerClusterView.this.listeners.forEach((l) -> l.removed(pod));
			}
		}

	}

}
