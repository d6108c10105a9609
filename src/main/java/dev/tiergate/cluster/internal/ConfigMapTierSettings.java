package dev.tiergate.cluster.internal;

import java.time.Clock;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

import dev.tiergate.cluster.Leadership;
import dev.tiergate.replica.ReplicaIdentity;
import dev.tiergate.tier.TierSettingsStore;
import io.kubernetes.client.informer.ResourceEventHandler;
import io.kubernetes.client.informer.SharedIndexInformer;
import io.kubernetes.client.informer.SharedInformerFactory;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.CoreV1Event;
import io.kubernetes.client.openapi.models.V1ConfigMap;
import io.kubernetes.client.openapi.models.V1ConfigMapList;
import io.kubernetes.client.openapi.models.V1EventSource;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1ObjectReference;

/**
 * The tier definitions in the ConfigMap {@code tiergate-tiers} of Tiergate's namespace
 * (key {@code tiers.json}), so that kubectl and GitOps see them. Every replica watches it
 * with an informer (a change reaches each replica as soon as the API server sends the
 * event); only the leader writes it through {@code PUT /api/v1/tiers}, while any replica
 * may create it when it does not exist (a create cannot overwrite anything). A refused
 * revision becomes a {@code Warning} Event on the ConfigMap, one per replica that refused
 * it.
 */
class ConfigMapTierSettings implements TierSettingsStore, SmartLifecycle {

	static final String KEY = "tiers.json";

	static final String REJECTED = "TierSettingsRejected";

	private static final Logger logger = LoggerFactory.getLogger(ConfigMapTierSettings.class);

	private final CoreV1Api core;

	private final ApiClient watchClient;

	private final String namespace;

	private final String name;

	private final Leadership leadership;

	private final ReplicaIdentity replica;

	private final Clock clock;

	private final long resyncMillis;

	private final List<Consumer<Stored>> listeners = new CopyOnWriteArrayList<>();

	private SharedInformerFactory factory;

	private volatile boolean running;

	ConfigMapTierSettings(ApiClient adminClient, ApiClient watchClient, String namespace, String name,
			Leadership leadership, ReplicaIdentity replica, Clock clock, long resyncMillis) {
		this.core = new CoreV1Api(adminClient);
		this.watchClient = watchClient;
		this.namespace = namespace;
		this.name = name;
		this.leadership = leadership;
		this.replica = replica;
		this.clock = clock;
		this.resyncMillis = resyncMillis;
	}

	@Override
	public String describe() {
		return "ConfigMap " + this.namespace + "/" + this.name;
	}

	@Override
	public Optional<Stored> load() {
		V1ConfigMap configMap = Kube.orNull("read " + describe(),
				() -> this.core.readNamespacedConfigMap(this.name, this.namespace).execute());
		return Optional.ofNullable(configMap).map(ConfigMapTierSettings::stored);
	}

	@Override
	public Stored createIfAbsent(String document) {
		try {
			V1ConfigMap created = this.core.createNamespacedConfigMap(this.namespace, configMap(document)).execute();
			logger.info("Created {} from the configured tier definitions", describe());
			return stored(created);
		}
		catch (ApiException ex) {
			if (ex.getCode() == 409) {
				return load().orElseThrow(() -> Kube.unavailable("read " + describe(), ex));
			}
			throw Kube.unavailable("create " + describe(), ex);
		}
	}

	@Override
	public Stored save(String document) {
		this.leadership.requireLeader("changing the tier definitions");
		for (int attempt = 1;; attempt++) {
			try {
				V1ConfigMap current = Kube.orNull("read " + describe(),
						() -> this.core.readNamespacedConfigMap(this.name, this.namespace).execute());
				if (current == null) {
					return stored(this.core.createNamespacedConfigMap(this.namespace, configMap(document)).execute());
				}
				Map<String, String> data = new HashMap<>((current.getData() != null) ? current.getData() : Map.of());
				data.put(KEY, document);
				current.apiVersion("v1").kind("ConfigMap").data(data);
				return stored(this.core.replaceNamespacedConfigMap(this.name, this.namespace, current).execute());
			}
			catch (ApiException ex) {
				// 409: changed (or created) between the read and the write, by kubectl
				// most
				// likely; read again and write over it, as the operator asked last.
				if (ex.getCode() != 409 || attempt == 3) {
					throw Kube.unavailable("write " + describe(), ex);
				}
			}
		}
	}

	@Override
	public void watch(Consumer<Stored> listener) {
		this.listeners.add(listener);
	}

	@Override
	public void rejected(Stored refused, String reason) {
		V1ConfigMap configMap = Kube.orNull("read " + describe(),
				() -> this.core.readNamespacedConfigMap(this.name, this.namespace).execute());
		var now = this.clock.instant().atOffset(ZoneOffset.UTC);
		CoreV1Event event = new CoreV1Event().apiVersion("v1")
			.kind("Event")
			.metadata(new V1ObjectMeta().name(this.name + "." + UUID.randomUUID().toString().replace("-", ""))
				.namespace(this.namespace))
			.involvedObject(new V1ObjectReference().apiVersion("v1")
				.kind("ConfigMap")
				.namespace(this.namespace)
				.name(this.name)
				.uid((configMap != null) ? configMap.getMetadata().getUid() : null)
				.resourceVersion(refused.revision()))
			.type("Warning")
			.reason(REJECTED)
			.message("Replica " + this.replica.name() + " refused revision " + refused.revision()
					+ " of the tier definitions and keeps the last good ones: " + reason)
			.firstTimestamp(now)
			.lastTimestamp(now)
			.count(1)
			.source(new V1EventSource().component("tiergate"))
			.reportingComponent("tiergate")
			.reportingInstance(this.replica.name());
		Kube.call("write an event on " + describe(),
				() -> this.core.createNamespacedEvent(this.namespace, event).execute());
	}

	private V1ConfigMap configMap(String document) {
		return new V1ConfigMap().apiVersion("v1")
			.kind("ConfigMap")
			.metadata(new V1ObjectMeta().name(this.name)
				.namespace(this.namespace)
				.labels(Map.of("app.kubernetes.io/managed-by", "tiergate")))
			.data(Map.of(KEY, document));
	}

	private static Stored stored(V1ConfigMap configMap) {
		Map<String, String> data = configMap.getData();
		return new Stored(configMap.getMetadata().getResourceVersion(), (data != null) ? data.get(KEY) : null);
	}

	private void seen(V1ConfigMap configMap) {
		if (configMap.getMetadata() == null || !this.name.equals(configMap.getMetadata().getName())) {
			return;
		}
		Stored stored = stored(configMap);
		for (Consumer<Stored> listener : this.listeners) {
			try {
				listener.accept(stored);
			}
			catch (RuntimeException ex) {
				logger.warn("Applying revision {} of {} failed: {}", stored.revision(), describe(), ex.toString());
			}
		}
	}

	@Override
	public synchronized void start() {
		if (this.running) {
			return;
		}
		CoreV1Api api = new CoreV1Api(this.watchClient);
		this.factory = new SharedInformerFactory(this.watchClient);
		SharedIndexInformer<V1ConfigMap> informer = this.factory.sharedIndexInformerFor(
				(params) -> api.listNamespacedConfigMap(this.namespace)
					.fieldSelector("metadata.name=" + this.name)
					.resourceVersion(params.resourceVersion)
					.timeoutSeconds(params.timeoutSeconds)
					.watch(params.watch)
					.buildCall(null),
				V1ConfigMap.class, V1ConfigMapList.class, this.resyncMillis,
				(type, ex) -> logger.warn("Watch of {} failed, it will retry: {}", describe(), ex.toString()));
		informer.addEventHandler(new ResourceEventHandler<>() {

			@Override
			public void onAdd(V1ConfigMap obj) {
				seen(obj);
			}

			@Override
			public void onUpdate(V1ConfigMap oldObj, V1ConfigMap newObj) {
				seen(newObj);
			}

			@Override
			public void onDelete(V1ConfigMap obj, boolean deletedFinalStateUnknown) {
				logger.warn("{} was deleted; the tier definitions in force stay, and the next change recreates it",
						describe());
			}

		});
		this.factory.startAllRegisteredInformers();
		this.running = true;
	}

	@Override
	public synchronized void stop() {
		this.running = false;
		if (this.factory != null) {
			this.factory.stopAllRegisteredInformers(true);
			this.factory = null;
		}
	}

	@Override
	public boolean isRunning() {
		return this.running;
	}

}
