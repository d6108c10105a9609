package dev.tiergate.cluster.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
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
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.util.ClientBuilder;

/**
 * The official Kubernetes client, the informers built on it, and the writers of sharing
 * profiles and PriorityClasses.
 */
@Configuration(proxyBeanMethods = false)
class KubernetesClientConfiguration {

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

	@Bean
	InformerGpuExporters gpuExporters(ApiClient kubernetesApiClient, GpuExporterProperties properties,
			ClusterProperties cluster) {
		return new InformerGpuExporters(kubernetesApiClient, properties, cluster.resync().toMillis());
	}

	@Bean
	KubernetesSharingProfiles sharingProfiles(@Qualifier("kubernetesAdminClient") ApiClient kubernetesAdminClient,
			SharingProperties properties, InformerClusterView clusterView, AuditLog audit, Clock clock) {
		return new KubernetesSharingProfiles(kubernetesAdminClient, properties, clusterView, audit, clock);
	}

	@Bean
	KubernetesPriorityClasses priorityClasses(@Qualifier("kubernetesAdminClient") ApiClient kubernetesAdminClient,
			ClusterProperties properties, AuditLog audit) {
		return new KubernetesPriorityClasses(kubernetesAdminClient, properties, audit);
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
