package dev.tiergate.cluster;

import java.time.Duration;
import java.util.List;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.ConstructorBinding;
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
 * @param requiredPodLabel a second gate: only pods that also carry this label
 * ({@code key} or {@code key=value}) receive requests, one that only the platform team
 * may set (enforced by an admission policy); empty for none
 * @param requiredPodAnnotation the same gate as an annotation ({@code key} or
 * {@code key=value}); empty for none
 * @param callTimeout longest any call to the API server other than a watch may take
 * (reads and writes of cluster administration: the read, write and whole-call timeout of
 * their own client); past it the change fails with 503 and {@code Retry-After}
 */
@Validated
@ConfigurationProperties("tiergate.cluster")
public record ClusterProperties(@DefaultValue("") String apiServer, @DefaultValue List<String> namespaces,
		@DefaultValue("tiergate.dev/model") @NotBlank String modelLabel, @DefaultValue("5m") @NotNull Duration resync,
		@DefaultValue("5s") @NotNull Duration connectTimeout, @DefaultValue("8000") @Positive int defaultPort,
		@DefaultValue("") String requiredPodLabel, @DefaultValue("") String requiredPodAnnotation,
		@DefaultValue("10s") @NotNull Duration callTimeout) {

	@ConstructorBinding
	public ClusterProperties {
		requiredPodLabel = (requiredPodLabel != null) ? requiredPodLabel.strip() : "";
		requiredPodAnnotation = (requiredPodAnnotation != null) ? requiredPodAnnotation.strip() : "";
	}

	/**
	 * Settings without a second gate.
	 * @param apiServer base URL of the API server, empty for the standard discovery
	 * @param namespaces namespaces watched, empty for all
	 * @param modelLabel the label naming a pod's model
	 * @param resync informer resync period
	 * @param connectTimeout connect timeout
	 * @param defaultPort port of pods without a port named {@code http}
	 */
	public ClusterProperties(String apiServer, List<String> namespaces, String modelLabel, Duration resync,
			Duration connectTimeout, int defaultPort) {
		this(apiServer, namespaces, modelLabel, resync, connectTimeout, defaultPort, "", "", Duration.ofSeconds(10));
	}

	/**
	 * Whether every namespace is watched.
	 * @return {@code true} when no namespace list is configured
	 */
	public boolean allNamespaces() {
		return this.namespaces.isEmpty() || this.namespaces.stream().allMatch(String::isBlank);
	}

}
