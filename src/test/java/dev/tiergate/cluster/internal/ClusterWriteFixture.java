package dev.tiergate.cluster.internal;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;

import org.springframework.data.redis.core.StringRedisTemplate;

import dev.tiergate.LocalRedis;
import dev.tiergate.audit.AuditEntry;
import dev.tiergate.audit.AuditLog;
import dev.tiergate.audit.AuditProperties;
import dev.tiergate.fleet.FleetObjects;
import dev.tiergate.fleet.KubernetesApiStandIn;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.AppsV1Api;

/**
 * A Kubernetes API stand-in of its own (so writes do not touch the shared fleet), an
 * official client on it, and an audit log in a stream of its own on the local Redis.
 */
final class ClusterWriteFixture implements AutoCloseable {

	final KubernetesApiStandIn kubernetes = new KubernetesApiStandIn().start();

	final ApiClient client = this.kubernetes.apiClient();

	final Clock clock = Clock.fixed(Instant.parse("2026-11-02T09:30:00Z"), ZoneOffset.UTC);

	final StringRedisTemplate redis;

	final String auditKey = "tg:audit:test-" + UUID.randomUUID();

	final AuditLog audit;

	ClusterWriteFixture() {
		this.redis = LocalRedis.template();
		this.audit = new AuditLog(this.redis, new AuditProperties(this.auditKey, 1000), this.clock);
	}

	List<AuditEntry> auditEntries() {
		return this.audit.entries(null, null, null, 1000);
	}

	void createDevicePluginDaemonSet(String namespace, String name) throws ApiException {
		new AppsV1Api(this.client)
			.createNamespacedDaemonSet(namespace, FleetObjects.devicePluginDaemonSet(namespace, name))
			.execute();
	}

	@Override
	public void close() {
		this.redis.delete(this.auditKey);
		this.kubernetes.close();
	}

}
