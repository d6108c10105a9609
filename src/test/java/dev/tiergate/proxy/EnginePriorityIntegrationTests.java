package dev.tiergate.proxy;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import dev.tiergate.EmbeddedDefaults;
import dev.tiergate.FleetIntegrationTestSupport;
import dev.tiergate.fleet.SimulatedGpuFleet;
import dev.tiergate.routing.EndpointRegistry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Tests for the tier reaching the engines as vLLM's {@code priority}: the embedded
 * fleet's pods start their engines with {@code --scheduling-policy priority}, so every
 * request carries its tier's priority, and a caller's own {@code priority} never reaches
 * them. (That the simulated engine serves a lower value first, preempting a running less
 * urgent sequence, is {@code SimulatedInferenceServerTests}'
 * {@code aRequestWithAMoreUrgentPriorityPreemptsALessUrgentOneAndFinishesFirst}.)
 */
class EnginePriorityIntegrationTests extends FleetIntegrationTestSupport {

	@Autowired
	private EndpointRegistry registry;

	private void send(String serviceTier, String extra) throws Exception {
		HttpResponse<String> response = post("/v1/chat/completions", EmbeddedDefaults.ACME_KEY, """
				{"model":"%s","service_tier":"%s",%s"messages":[{"role":"user","content":"hi"}],"max_tokens":2}"""
			.formatted(SimulatedGpuFleet.LLAMA, serviceTier, extra));
		assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
	}

	/** Requests by priority over all of the model's servers. */
	private static Map<Integer, Long> seen() {
		Map<Integer, Long> total = new java.util.TreeMap<>();
		for (int i = 0; i < 20; i++) {
			fleet().server(String.format("llama-%02d", i)).priorities().forEach((p, n) -> total.merge(p, n, Long::sum));
		}
		return total;
	}

	@Test
	void eachRequestReachesItsEngineWithItsTiersPriorityAndNotTheCallers() throws Exception {
		await().atMost(Duration.ofSeconds(10))
			.until(() -> this.registry.pool(SimulatedGpuFleet.LLAMA).size() == 20
					&& this.registry.pool(SimulatedGpuFleet.LLAMA).get(0).priorityScheduling());
		Map<Integer, Long> before = seen();
		send("priority", "\"priority\":-100,");
		Map<Integer, Long> afterP0 = seen();
		assertThat(afterP0.getOrDefault(0, 0L)).isEqualTo(before.getOrDefault(0, 0L) + 1);
		assertThat(afterP0).doesNotContainKey(-100);
		send("flex", "");
		assertThat(seen().getOrDefault(2, 0L)).isEqualTo(before.getOrDefault(2, 0L) + 1);
	}

}
