package dev.tiergate.spill;

import java.net.URI;
import java.time.Duration;
import java.util.Map;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

import dev.tiergate.tier.Tier;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.PositiveOrZero;

/**
 * Spill to hosted APIs, set by operators only: no request can choose where it goes.
 *
 * @param upstreams the hosted upstream per model name (the name callers use); a model
 * without one never spills. Model names with dots need brackets, e.g.
 * {@code upstreams."[llama-3.1-8b-instruct]".base-uri}
 * @param tiers spill policy per tier; a tier not listed keeps its default (P0
 * when-saturated after 0s, P1 when-saturated after 2s, P2 never)
 * @param monthlyCap the most US dollars all tenants together may spend on hosted
 * upstreams in a calendar month (UTC); 0 (the default) spends nothing, so nothing spills
 * @param tenantMonthlyCap the most one tenant may spend a month, unless
 * {@code tenant-caps} names it; unset, only the global cap applies
 * @param tenantCaps monthly caps in US dollars per tenant id
 */
@Validated
@ConfigurationProperties("tiergate.spill")
public record SpillProperties(@DefaultValue Map<String, @Valid Upstream> upstreams,
		@DefaultValue Map<Tier, @Valid TierSpill> tiers, @DefaultValue("0") @PositiveOrZero double monthlyCap,
		@PositiveOrZero Double tenantMonthlyCap, @DefaultValue Map<String, @PositiveOrZero Double> tenantCaps) {

	/**
	 * A tier's spill policy, its setting or the default.
	 * @param tier the tier
	 * @return the policy
	 */
	public TierSpill tier(Tier tier) {
		TierSpill configured = this.tiers.get(tier);
		if (configured != null) {
			return configured;
		}
		return switch (tier) {
			case P0 -> new TierSpill(SpillMode.WHEN_SATURATED, Duration.ZERO);
			case P1 -> new TierSpill(SpillMode.WHEN_SATURATED, Duration.ofSeconds(2));
			default -> new TierSpill(SpillMode.NEVER, Duration.ZERO);
		};
	}

	/**
	 * When one tier spills.
	 *
	 * @param spill {@code never} or {@code when-saturated}
	 * @param spillAfter the longest a request waits for a slot before it goes to the
	 * hosted upstream; 0 spills at once when no slot is free and no lease can be
	 * preempted for it
	 */
	public record TierSpill(@NotNull SpillMode spill, @DefaultValue("0s") @NotNull Duration spillAfter) {

		/**
		 * Whether requests of the tier may spill.
		 * @return {@code true} for {@link SpillMode#WHEN_SATURATED}
		 */
		public boolean spills() {
			return this.spill == SpillMode.WHEN_SATURATED;
		}

	}

	/**
	 * One hosted, OpenAI-compatible upstream.
	 *
	 * @param baseUri where its API is, e.g. {@code https://api.openai.com} (paths such as
	 * {@code /v1/chat/completions} are resolved against it)
	 * @param model the model name the hosted API knows; requests are rewritten to it
	 * @param apiKey the bearer key, from a Kubernetes Secret through the environment
	 * (e.g. {@code ${HOSTED_API_KEY}}); never logged, shown or audited
	 * @param connectTimeout connect timeout
	 * @param timeout longest the hosted API may take until its response headers
	 * @param idleTimeout longest its answer's body may send no byte
	 */
	public record Upstream(@NotNull URI baseUri, @NotBlank String model, @NotBlank String apiKey,
			@DefaultValue("2s") @NotNull Duration connectTimeout, @DefaultValue("30s") @NotNull Duration timeout,
			@DefaultValue("30s") @NotNull Duration idleTimeout) {

		/**
		 * Without the key, so that no log or error message can carry it.
		 * @return a description
		 */
		@Override
		public String toString() {
			return "Upstream[baseUri=" + this.baseUri + ", model=" + this.model + ", apiKey=(hidden), connectTimeout="
					+ this.connectTimeout + ", timeout=" + this.timeout + ", idleTimeout=" + this.idleTimeout + "]";
		}

	}

}
