package dev.tiergate.cluster.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;

import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Primary;

import dev.tiergate.audit.AuditLog;
import dev.tiergate.cluster.ClusterProperties;
import dev.tiergate.cluster.GpuExporterProperties;
import dev.tiergate.cluster.SharingProperties;
import dev.tiergate.replica.ReplicaIdentity;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.util.ClientBuilder;

/**
 * The official Kubernetes client, the informers built on it, and the writers of sharing
 * profiles and PriorityClasses.
 */
@Configuration(proxyBeanMethods = false)
class KubernetesClientConfiguration {

	private static final Path SERVICE_ACCOUNT_NAMESPACE = Path
		.of("/var/run/secrets/kubernetes.io/serviceaccount/namespace");

	/**
	 * The client of the informers' watches: no read timeout, as a watch is a long poll.
	 * @param properties cluster settings
	 * @return the client
	 */
	@Bean
	@Primary
	ApiClient kubernetesApiClient(ClusterProperties properties) {
		try {
			ClientBuilder builder = builder(properties);
			// Watches are long polls: a read timeout would cut every informer's watch.
			ApiClient client = builder.setReadTimeout(Duration.ZERO).build();
			client.setHttpClient(client.getHttpClient()
				.newBuilder()
				.connectTimeout(properties.connectTimeout())
				.readTimeout(Duration.ZERO)
				.build());
			return client;
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Cannot configure the Kubernetes client", ex);
		}
	}

	/**
	 * The client of every call that is not a watch (cluster administration's reads and
	 * writes): connect, read, write and whole-call timeouts, so a call the API server
	 * does not answer fails (503 with {@code Retry-After}) instead of holding its writer.
	 * @param properties cluster settings
	 * @return the client
	 */
	@Bean
	ApiClient kubernetesAdminClient(ClusterProperties properties) {
		try {
			ApiClient client = builder(properties).setReadTimeout(properties.callTimeout()).build();
			client.setHttpClient(client.getHttpClient()
				.newBuilder()
				.connectTimeout(properties.connectTimeout())
				.readTimeout(properties.callTimeout())
				.writeTimeout(properties.callTimeout())
				.callTimeout(properties.callTimeout())
				.build());
			return client;
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Cannot configure the Kubernetes client", ex);
		}
	}

	private static ClientBuilder builder(ClusterProperties properties) throws IOException {
		return properties.apiServer().isBlank() ? ClientBuilder.standard()
				: new ClientBuilder().setBasePath(properties.apiServer());
	}

	@Bean
	InformerClusterView clusterView(ApiClient kubernetesApiClient, ClusterProperties properties) {
		return new InformerClusterView(kubernetesApiClient, properties);
	}

	/**
	 * The replicas' election of the one that writes to the cluster.
	 * @param kubernetesAdminClient the client with timeouts
	 * @param properties cluster settings
	 * @param replica this replica's name, the Lease holder's identity
	 * @param clock the clock
	 * @return the election, started with the context
	 */
	@Bean
	LeaseLeaderElection leaderElection(@Qualifier("kubernetesAdminClient") ApiClient kubernetesAdminClient,
			ClusterProperties properties, ReplicaIdentity replica, Clock clock) {
		return new LeaseLeaderElection(kubernetesAdminClient, ownNamespace(properties), replica,
				properties.leaderElection(), clock);
	}

	@Bean
	ConfigMapTierSettings tierSettings(@Qualifier("kubernetesAdminClient") ApiClient kubernetesAdminClient,
			ApiClient kubernetesApiClient, ClusterProperties properties, LeaseLeaderElection leadership,
			ReplicaIdentity replica, Clock clock) {
		return new ConfigMapTierSettings(kubernetesAdminClient, kubernetesApiClient, ownNamespace(properties),
				properties.tiersConfigMap(), leadership, replica, clock, properties.resync().toMillis());
	}

	@Bean
	InformerGpuExporters gpuExporters(ApiClient kubernetesApiClient, GpuExporterProperties properties,
			ClusterProperties cluster) {
		return new InformerGpuExporters(kubernetesApiClient, properties, cluster.resync().toMillis());
	}

	@Bean
	KubernetesSharingProfiles sharingProfiles(@Qualifier("kubernetesAdminClient") ApiClient kubernetesAdminClient,
			SharingProperties properties, InformerClusterView clusterView, AuditLog audit, Clock clock,
			LeaseLeaderElection leadership) {
		return new KubernetesSharingProfiles(kubernetesAdminClient, properties, clusterView, audit, clock, leadership);
	}

	@Bean
	KubernetesPriorityClasses priorityClasses(@Qualifier("kubernetesAdminClient") ApiClient kubernetesAdminClient,
			ClusterProperties properties, AuditLog audit, LeaseLeaderElection leadership) {
		return new KubernetesPriorityClasses(kubernetesAdminClient, properties, audit, leadership);
	}

	/**
	 * Tiergate's own namespace: the configured one, else the service account's (the
	 * namespace file Kubernetes mounts into every pod), else {@code default}.
	 * @param properties cluster settings
	 * @return the namespace
	 */
	static String ownNamespace(ClusterProperties properties) {
		if (!properties.ownNamespace().isEmpty()) {
			return properties.ownNamespace();
		}
		try {
			String mounted = Files.readString(SERVICE_ACCOUNT_NAMESPACE).strip();
			if (!mounted.isEmpty()) {
				return mounted;
			}
		}
		catch (IOException ex) {
			// Not in a pod.
		}
		return "default";
	}

	@Bean
	ClusterMetrics clusterMetrics(InformerClusterView clusterView, KubernetesSharingProfiles sharingProfiles,
			Clock clock) {
		return new ClusterMetrics(clusterView, sharingProfiles, clock);
	}

	@Bean
	InformerHealthIndicator kubernetesInformersHealthIndicator(InformerClusterView clusterView) {
		return new InformerHealthIndicator(clusterView);
	}

}
