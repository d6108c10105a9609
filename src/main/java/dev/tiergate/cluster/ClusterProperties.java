package dev.tiergate.cluster;

import java.time.Duration;
import java.util.List;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.ConstructorBinding;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

import jakarta.validation.Valid;
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
 * @param ownNamespace Tiergate's own namespace: where the leader Lease, the tier
 * ConfigMap and Tiergate's events live; empty means the namespace of the pod's service
 * account (the chart sets it from the downward API), else {@code default}
 * @param tiersConfigMap name of the ConfigMap in {@code ownNamespace} that holds the tier
 * definitions every replica applies
 * @param leaderElection how the replicas elect the one that writes to the cluster
 */
@Validated
@ConfigurationProperties("tiergate.cluster")
public record ClusterProperties(@DefaultValue("") String apiServer, @DefaultValue List<String> namespaces,
		@DefaultValue("tiergate.dev/model") @NotBlank String modelLabel, @DefaultValue("5m") @NotNull Duration resync,
		@DefaultValue("5s") @NotNull Duration connectTimeout, @DefaultValue("8000") @Positive int defaultPort,
		@DefaultValue("") String requiredPodLabel, @DefaultValue("") String requiredPodAnnotation,
		@DefaultValue("10s") @NotNull Duration callTimeout, @DefaultValue("") String ownNamespace,
		@DefaultValue("tiergate-tiers") @NotBlank String tiersConfigMap,
		@DefaultValue @Valid @NotNull LeaderElection leaderElection) {

	@ConstructorBinding
	public ClusterProperties {
		requiredPodLabel = (requiredPodLabel != null) ? requiredPodLabel.strip() : "";
		requiredPodAnnotation = (requiredPodAnnotation != null) ? requiredPodAnnotation.strip() : "";
		ownNamespace = (ownNamespace != null) ? ownNamespace.strip() : "";
		tiersConfigMap = (tiersConfigMap != null) ? tiersConfigMap : "tiergate-tiers";
		leaderElection = (leaderElection != null) ? leaderElection : LeaderElection.DEFAULTS;
	}

	/**
	 * Settings with the default own namespace, tier ConfigMap and leader election.
	 * @param apiServer base URL of the API server, empty for the standard discovery
	 * @param namespaces namespaces watched, empty for all
	 * @param modelLabel the label naming a pod's model
	 * @param resync informer resync period
	 * @param connectTimeout connect timeout
	 * @param defaultPort port of pods without a port named {@code http}
	 * @param requiredPodLabel the second gate's label, empty for none
	 * @param requiredPodAnnotation the second gate's annotation, empty for none
	 * @param callTimeout longest call other than a watch
	 */
	public ClusterProperties(String apiServer, List<String> namespaces, String modelLabel, Duration resync,
			Duration connectTimeout, int defaultPort, String requiredPodLabel, String requiredPodAnnotation,
			Duration callTimeout) {
		this(apiServer, namespaces, modelLabel, resync, connectTimeout, defaultPort, requiredPodLabel,
				requiredPodAnnotation, callTimeout, "", "tiergate-tiers", LeaderElection.DEFAULTS);
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

	/**
	 * Leader election on a {@code coordination.k8s.io/v1} Lease: the leader renews it
	 * every {@code retryPeriod}; another replica takes it over once it has not changed
	 * for {@code leaseDuration}; a leader that could not renew for {@code renewDeadline}
	 * stops writing, before anyone else may take over.
	 *
	 * @param leaseName name of the Lease in Tiergate's own namespace
	 * @param leaseDuration how long a Lease that nobody renews keeps its holder
	 * @param renewDeadline how long the leader keeps leading while its renewals fail;
	 * shorter than {@code leaseDuration}
	 * @param retryPeriod how often the leader renews and the others try to acquire
	 */
	public record LeaderElection(@DefaultValue("tiergate-leader") @NotBlank String leaseName,
			@DefaultValue("15s") @NotNull Duration leaseDuration, @DefaultValue("10s") @NotNull Duration renewDeadline,
			@DefaultValue("2s") @NotNull Duration retryPeriod) {

		/** The defaults: 15 s lease, 10 s renew deadline, 2 s retry period. */
		public static final LeaderElection DEFAULTS = new LeaderElection("tiergate-leader", Duration.ofSeconds(15),
				Duration.ofSeconds(10), Duration.ofSeconds(2));

		public LeaderElection {
			if (leaseDuration != null && renewDeadline != null && renewDeadline.compareTo(leaseDuration) >= 0) {
				throw new IllegalArgumentException(
						"tiergate.cluster.leader-election.renew-deadline must be shorter than lease-duration");
			}
			if (renewDeadline != null && retryPeriod != null && retryPeriod.compareTo(renewDeadline) >= 0) {
				throw new IllegalArgumentException(
						"tiergate.cluster.leader-election.retry-period must be shorter than renew-deadline");
			}
		}

	}

}
