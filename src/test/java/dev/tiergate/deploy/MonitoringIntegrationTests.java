package dev.tiergate.deploy;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Value;

import dev.tiergate.EmbeddedDefaults;
import dev.tiergate.FleetIntegrationTestSupport;
import dev.tiergate.fleet.SimulatedGpuFleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Tests for what Prometheus and Grafana read from Tiergate: the whole
 * {@code /actuator/prometheus} exposition passes {@code promtool check metrics}, and
 * every metric the alert rules and the dashboard query exists after traffic.
 */
class MonitoringIntegrationTests extends FleetIntegrationTestSupport {

	@Value("${local.management.port}")
	private int managementPort;

	private String exposition;

	@BeforeEach
	void traffic() throws Exception {
		await().atMost(Duration.ofSeconds(20))
			.until(() -> post("/v1/chat/completions", EmbeddedDefaults.ACME_KEY, chat(SimulatedGpuFleet.LLAMA, 2))
				.statusCode() == 200);
		post("/v1/chat/completions", EmbeddedDefaults.ACME_KEY, chat(SimulatedGpuFleet.QWEN, 2), "X-Tiergate-Priority",
				"P0");
		post("/v1/chat/completions", EmbeddedDefaults.BATCHCO_KEY, chat(SimulatedGpuFleet.LLAMA, 2));
		post("/v1/chat/completions", "tg-not-a-key", chat(SimulatedGpuFleet.LLAMA, 2));
		get("/api/v1/endpoints", basic("viewer", "viewer"));
		get("/api/v1/endpoints", null);
		get("/", null);
		get("/livez", null);
		// The batch queue-depth gauge of each pool appears at the batch workers' next
		// maintenance pass (tiergate.batch.reclaim-interval, 5 s).
		await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(250)).until(() -> {
			this.exposition = http
				.send(HttpRequest
					.newBuilder(URI.create("http://127.0.0.1:" + this.managementPort + "/actuator/prometheus"))
					.timeout(Duration.ofSeconds(10))
					.build(), HttpResponse.BodyHandlers.ofString())
				.body();
			return this.exposition.contains("tiergate_batch_queue_depth{");
		});
		Files.writeString(Path.of("target/exposition.txt"), this.exposition);
	}

	@Test
	void wholeExpositionPassesPromtoolCheckMetrics() throws Exception {
		Promtool.Result result = Promtool.run(this.exposition, "check", "metrics");
		assertThat(result.exitCode()).as(result.output()).isZero();
	}

	@Test
	void everyMetricTheGrafanaDashboardQueriesExists() throws Exception {
		assertThat(GrafanaDashboardTests.metricNames()).contains("tiergate_dispatch_queue_wait_seconds_bucket",
				"tiergate_slots", "tiergate_quota_decisions_total", "tiergate_batch_queue_depth");
		assertThat(AlertRulesTests.missingFrom(this.exposition, GrafanaDashboardTests.metricNames())).isEmpty();
	}

	@Test
	void everyMetricTheAlertRulesReadExists() throws Exception {
		assertThat(AlertRulesTests.metricNames()).contains("tiergate_proxy_first_byte_seconds_bucket",
				"tiergate_cluster_informers_synced", "tiergate_cluster_sharing_drifted_nodes",
				"tiergate_batch_items_total", "tiergate_batches");
		assertThat(AlertRulesTests.missingFrom(this.exposition, AlertRulesTests.metricNames())).isEmpty();
	}

}
