package dev.tiergate.routing;

/**
 * The balancing policy of each model, as configured
 * ({@code tiergate.routing.policy.<model>}), and the affinity key that
 * {@code prefix-affinity} hashes on.
 */
public class BalancingPolicies {

	private final EndpointRegistry registry;

	private final RoutingProperties properties;

	public BalancingPolicies(EndpointRegistry registry, RoutingProperties properties) {
		this.registry = registry;
		this.properties = properties;
	}

	/**
	 * A new policy for one model's scheduler (a policy keeps per-pool state, such as the
	 * hash ring).
	 * @param model the model
	 * @return the policy, or {@code null} for least-outstanding (the scheduler's own fast
	 * default)
	 */
	public BalancingPolicy create(String model) {
		return switch (this.properties.policyFor(model)) {
			case LEAST_OUTSTANDING -> null;
			case QUEUE_AWARE -> new QueueAwarePolicy(this.properties.scrape().staleAfter());
			case PREFIX_AFFINITY -> new PrefixAffinityPolicy(() -> this.registry.pool(model),
					this.properties.affinity().loadFactor(), this.properties.affinity().virtualNodes());
		};
	}

	/**
	 * The configured policy of a model.
	 * @param model the model
	 * @return the policy
	 */
	public RoutingProperties.Policy policyOf(String model) {
		return this.properties.policyFor(model);
	}

	/**
	 * Whether requests for a model need an affinity key.
	 * @param model the model
	 * @return {@code true} for {@code prefix-affinity}
	 */
	public boolean usesAffinity(String model) {
		return this.properties.policyFor(model) == RoutingProperties.Policy.PREFIX_AFFINITY;
	}

	/**
	 * Request header that carries a session id.
	 * @return header name
	 */
	public String affinityHeader() {
		return this.properties.affinity().header();
	}

	/**
	 * Characters of the prompt that make the key.
	 * @return prefix length
	 */
	public int prefixLength() {
		return this.properties.affinity().prefixLength();
	}

	/**
	 * The affinity key of a request.
	 * @param session the session header's value, or {@code null}
	 * @param promptPrefix the prompt's first characters
	 * @return the key, 0 for none
	 */
	public long affinityKey(String session, CharSequence promptPrefix) {
		if (session != null && !session.isBlank()) {
			return AffinityKeys.of(session, 1024);
		}
		return AffinityKeys.of(promptPrefix, prefixLength());
	}

}
