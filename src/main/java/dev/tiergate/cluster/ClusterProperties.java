package dev.tiergate.cluster;

import java.time.Duration;
import java.util.List;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Positive;

/**
 * How Tiergate reaches and watches the Kubernetes API.
 *
 * @param apiServer base URL of the Kubernetes API server; empty means the standard
 * discovery (in-cluster service account, then {@code KUBECONFIG} /
 * {@code ~/.kube/config})
 * @param namespaces namespaces watched for inference pods; empty means all namespaces
 * @param modelLabel label that marks an inference pod and names the model it serves
 * @param resync how often informers replay their cache to listeners, so a missed event
 * heals itself
 * @param connectTimeout connect timeout of calls to the API server
 * @param defaultPort port used when an inference pod has no container port named
 * {@code http}
 */
@Validated
@ConfigurationProperties("tiergate.cluster")
public record ClusterProperties(@DefaultValue("") String apiServer, @DefaultValue List<String> namespaces,
		@DefaultValue("tiergate.dev/model") @NotBlank String modelLabel, @DefaultValue("5m") @NotNull Duration resync,
		@DefaultValue("5s") @NotNull Duration connectTimeout, @DefaultValue("8000") @Positive int defaultPort) {

	/**
	 * Whether every namespace is watched.
	 * @return {@code true} when no namespace list is configured
	 */
	public boolean allNamespaces() {
		return this.namespaces.isEmpty() || this.namespaces.stream().allMatch(String::isBlank);
	}

}
