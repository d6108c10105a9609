package dev.tiergate.cluster.internal;

import java.util.Comparator;
import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

import dev.tiergate.cluster.GpuExporter;
import dev.tiergate.cluster.GpuExporterProperties;
import dev.tiergate.cluster.GpuExporters;
import io.kubernetes.client.informer.SharedIndexInformer;
import io.kubernetes.client.informer.SharedInformerFactory;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1Pod;
import io.kubernetes.client.openapi.models.V1PodList;

/**
 * The {@link GpuExporters} kept by one pod informer with the exporters' label selector,
 * in their namespace (or all namespaces). With discovery off it starts nothing and knows
 * no exporter.
 */
class InformerGpuExporters implements GpuExporters, SmartLifecycle {

	private static final Logger logger = LoggerFactory.getLogger(InformerGpuExporters.class);

	private final ApiClient client;

	private final GpuExporterProperties properties;

	private final long resyncMillis;

	private volatile SharedInformerFactory factory;

	private volatile SharedIndexInformer<V1Pod> informer;

	InformerGpuExporters(ApiClient client, GpuExporterProperties properties, long resyncMillis) {
		this.client = client;
		this.properties = properties;
		this.resyncMillis = resyncMillis;
	}

	@Override
	public List<GpuExporter> exporters() {
		SharedIndexInformer<V1Pod> current = this.informer;
		if (current == null) {
			return List.of();
		}
		return current.getIndexer()
			.list()
			.stream()
			.map((pod) -> KubernetesObjects.exporter(pod, this.properties.port(), this.properties.path()))
			.sorted(Comparator.comparing(GpuExporter::key))
			.toList();
	}

	@Override
	public synchronized void start() {
		if (!this.properties.enabled() || this.factory != null) {
			return;
		}
		CoreV1Api api = new CoreV1Api(this.client);
		String selector = this.properties.labelSelector();
		String namespace = this.properties.namespace().strip();
		SharedInformerFactory created = new SharedInformerFactory(this.client);
		this.informer = created.sharedIndexInformerFor(
				(params) -> namespace.isEmpty()
						? api.listPodForAllNamespaces()
							.labelSelector(selector)
							.resourceVersion(params.resourceVersion)
							.timeoutSeconds(params.timeoutSeconds)
							.watch(params.watch)
							.buildCall(null)
						: api.listNamespacedPod(namespace)
							.labelSelector(selector)
							.resourceVersion(params.resourceVersion)
							.timeoutSeconds(params.timeoutSeconds)
							.watch(params.watch)
							.buildCall(null),
				V1Pod.class, V1PodList.class, this.resyncMillis, (type, ex) -> logger
					.warn("Informer for DCGM exporter pods ({}) failed, it will retry: {}", selector, ex.toString()));
		created.startAllRegisteredInformers();
		this.factory = created;
	}

	@Override
	public synchronized void stop() {
		SharedInformerFactory current = this.factory;
		this.factory = null;
		this.informer = null;
		if (current != null) {
			current.stopAllRegisteredInformers(true);
		}
	}

	@Override
	public boolean isRunning() {
		return this.factory != null;
	}

}
