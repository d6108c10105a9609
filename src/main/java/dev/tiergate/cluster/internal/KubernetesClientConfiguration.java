package dev.tiergate.cluster.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.tiergate.cluster.ClusterProperties;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.util.ClientBuilder;

/**
 * The official Kubernetes client and the informers built on it.
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
	InformerHealthIndicator kubernetesInformersHealthIndicator(InformerClusterView clusterView) {
		return new InformerHealthIndicator(clusterView);
	}

}
