package dev.tiergate.cluster.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.tiergate.audit.AuditLog;
import dev.tiergate.cluster.ClusterProperties;
import dev.tiergate.cluster.SharingProperties;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.util.ClientBuilder;

/**
 * The official Kubernetes client, the informers built on it, and the writers of sharing
 * profiles and PriorityClasses.
 */
@Configuration(proxyBeanMethods = false)
class KubernetesClientConfiguration {

	@Bean
	ApiClient kubernetesApiClient(ClusterProperties properties) {
		try {
			ClientBuilder builder = properties.apiServer().isBlank() ? ClientBuilder.standard()
					: new ClientBuilder().setBasePath(properties.apiServer());
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

	@Bean
	InformerClusterView clusterView(ApiClient kubernetesApiClient, ClusterProperties properties) {
		return new InformerClusterView(kubernetesApiClient, properties);
	}

	@Bean
	KubernetesSharingProfiles sharingProfiles(ApiClient kubernetesApiClient, SharingProperties properties,
			InformerClusterView clusterView, AuditLog audit, Clock clock) {
		return new KubernetesSharingProfiles(kubernetesApiClient, properties, clusterView, audit, clock);
	}

	@Bean
	KubernetesPriorityClasses priorityClasses(ApiClient kubernetesApiClient, ClusterProperties properties,
			AuditLog audit) {
		return new KubernetesPriorityClasses(kubernetesApiClient, properties, audit);
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
