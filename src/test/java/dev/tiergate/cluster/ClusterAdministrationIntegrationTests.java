package dev.tiergate.cluster;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.kubernetes.client.openapi.apis.AppsV1Api;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Tests for the cluster administration REST API ({@code /api/v1/sharing},
 * {@code /api/v1/priority-classes}, {@code /api/v1/slices}, {@code /api/v1/audit}) in the
 * whole application, against a fleet of its own.
 */
class ClusterAdministrationIntegrationTests extends ClusterIntegrationTestSupport {

	private static final JsonMapper json = JsonMapper.builder().build();

	private static JsonNode body(HttpResponse<String> response) {
		return json.readTree(response.body());
	}

	private static List<String> texts(JsonNode array, String field) {
		List<String> result = new ArrayList<>();
		array.forEach((node) -> result.add(node.get(field).asString()));
		return result;
	}

	@Test
	void viewerReadsButOnlyAnAdminChanges() throws Exception {
		String profile = """
				{"strategy":"time-slicing","replicas":2}""";
		assertThat(send("GET", "/api/v1/sharing/profiles", VIEWER, null).statusCode()).isEqualTo(200);
		assertThat(send("GET", "/api/v1/priority-classes", VIEWER, null).statusCode()).isEqualTo(200);
		assertThat(send("GET", "/api/v1/slices", VIEWER, null).statusCode()).isEqualTo(200);
		assertThat(send("GET", "/api/v1/audit", VIEWER, null).statusCode()).isEqualTo(200);

		HttpResponse<String> viewer = send("PUT", "/api/v1/sharing/profiles/roles-ts-2", VIEWER, profile);
		assertThat(viewer.statusCode()).isEqualTo(403);
		assertThat(viewer.headers().firstValue("Content-Type"))
			.hasValueSatisfying((type) -> assertThat(type).startsWith("application/problem+json"));
		HttpResponse<String> operator = send("PUT", "/api/v1/sharing/profiles/roles-ts-2", CI, profile);
		assertThat(operator.statusCode()).isEqualTo(403);
		assertThat(body(operator).get("status").asInt()).isEqualTo(403);
		assertThat(send("POST", "/api/v1/priority-classes/sync", VIEWER, null).statusCode()).isEqualTo(403);
		assertThat(send("DELETE", "/api/v1/priority-classes/team-high", CI, null).statusCode()).isEqualTo(403);
		assertThat(send("GET", "/api/v1/sharing/profiles/roles-ts-2", ADMIN, null).statusCode()).isEqualTo(404);

		HttpResponse<String> admin = send("PUT", "/api/v1/sharing/profiles/roles-ts-2", ADMIN, profile);
		assertThat(admin.statusCode()).isEqualTo(200);
		assertThat(body(admin).get("yaml").asString()).contains("timeSlicing:").contains("replicas: 2");
		assertThat(send("GET", "/api/v1/sharing/profiles/roles-ts-2", VIEWER, null).statusCode()).isEqualTo(200);
		assertThat(send("DELETE", "/api/v1/sharing/profiles/roles-ts-2", ADMIN, null).statusCode()).isEqualTo(204);
	}

	@Test
	void invalidProfilesAre400ProblemsNamingTheFieldAndWarningsDoNotBlock() throws Exception {
		HttpResponse<String> tooMany = send("PUT", "/api/v1/sharing/profiles/bad", ADMIN, """
				{"strategy":"mps","replicas":64}""");
		assertThat(tooMany.statusCode()).isEqualTo(400);
		assertThat(body(tooMany).get("field").asString()).isEqualTo("replicas");
		assertThat(body(tooMany).get("detail").asString()).contains("48");
		HttpResponse<String> resource = send("PUT", "/api/v1/sharing/profiles/bad", ADMIN, """
				{"strategy":"time-slicing","replicas":4,"resource":"amd.com/gpu"}""");
		assertThat(body(resource).get("field").asString()).isEqualTo("resource");
		HttpResponse<String> strategy = send("PUT", "/api/v1/sharing/profiles/bad", ADMIN, """
				{"replicas":4}""");
		assertThat(body(strategy).get("field").asString()).isEqualTo("strategy");

		HttpResponse<String> warned = send("PUT", "/api/v1/sharing/profiles/warned-mps-16", ADMIN, """
				{"strategy":"mps","replicas":16,"devices":"all"}""");
		assertThat(warned.statusCode()).isEqualTo(200);
		assertThat(body(warned).get("warnings")).hasSize(2);
		send("DELETE", "/api/v1/sharing/profiles/warned-mps-16", ADMIN, null);
	}

	@Test
	void previewThenApplyOverRestAndAuditEveryChange() throws Exception {
		String rollout = """
				{"strategy":"mps","replicas":2,"nodes":["mps2-1"]}""";
		HttpResponse<String> preview = send("POST", "/api/v1/sharing/profiles/rest-mps-2/preview", ADMIN, rollout);
		assertThat(preview.statusCode()).isEqualTo(200);
		JsonNode plan = body(preview);
		assertThat(plan.get("nodes").get(0).get("slicesBefore").asInt()).isEqualTo(8);
		assertThat(plan.get("nodes").get(0).get("slicesAfter").asInt()).isEqualTo(8);
		assertThat(plan.get("restart").asBoolean()).isTrue();

		HttpResponse<String> applied = send("POST", "/api/v1/sharing/profiles/rest-mps-2/apply", ADMIN, rollout);
		assertThat(applied.statusCode()).isEqualTo(200);
		assertThat(body(applied).get("preview")).isEqualTo(plan);
		assertThat(new CoreV1Api(kubernetes()).readNamespacedConfigMap("device-plugin-config", "gpu-operator")
			.execute()
			.getData()).containsEntry("rest-mps-2", plan.get("after").asString());
		assertThat(new CoreV1Api(kubernetes()).readNode("mps2-1").execute().getMetadata().getLabels())
			.containsEntry("nvidia.com/device-plugin.config", "rest-mps-2");
		assertThat(new AppsV1Api(kubernetes()).readNamespacedDaemonSet("nvidia-device-plugin-daemonset", "gpu-operator")
			.execute()
			.getSpec()
			.getTemplate()
			.getMetadata()
			.getAnnotations()).containsEntry("tiergate.dev/restartedAt", body(applied).get("restartedAt").asString());

		JsonNode again = body(send("POST", "/api/v1/sharing/profiles/rest-mps-2/apply", ADMIN, rollout));
		assertThat(again.get("configMapWritten").asBoolean()).isFalse();
		assertThat(again.get("labelledNodes")).isEmpty();
		assertThat(again.get("restartedAt").asString()).isEmpty();

		JsonNode nodes = body(send("GET", "/api/v1/sharing/nodes", VIEWER, null));
		nodes.forEach((node) -> {
			if (node.get("node").asString().equals("mps2-1")) {
				assertThat(node.get("drift").asBoolean()).isFalse();
			}
		});

		JsonNode audit = body(send("GET", "/api/v1/audit?since=2000-01-01T00:00:00Z", VIEWER, null));
		assertThat(audit).anySatisfy((entry) -> {
			assertThat(entry.get("kind").asString()).isEqualTo("node-label");
			assertThat(entry.get("target").asString()).isEqualTo("mps2-1");
			assertThat(entry.get("actor").asString()).isEqualTo("admin");
			assertThat(entry.get("after").asString()).isEqualTo("nvidia.com/device-plugin.config=rest-mps-2");
		});
		assertThat(texts(body(send("GET", "/api/v1/audit?kind=sharing-profile", VIEWER, null)), "target"))
			.contains("rest-mps-2");
		assertThat(texts(body(send("GET", "/api/v1/audit?kind=device-plugin-restart", VIEWER, null)), "actor"))
			.contains("admin");
		assertThat(send("GET", "/api/v1/audit?since=yesterday", VIEWER, null).statusCode()).isEqualTo(400);
	}

	@Test
	void priorityClassesSyncFromTheTiersAndKeepTheirGuardrails() throws Exception {
		HttpResponse<String> sync = send("POST", "/api/v1/priority-classes/sync", ADMIN, null);
		assertThat(sync.statusCode()).isEqualTo(200);
		assertThat(texts(body(send("POST", "/api/v1/priority-classes/sync", ADMIN, null)), "action"))
			.containsOnly("unchanged");

		JsonNode classes = body(send("GET", "/api/v1/priority-classes", VIEWER, null));
		assertThat(texts(classes, "name")).containsSubsequence("system-node-critical", "realtime-inference",
				"near-realtime-inference", "team-high", "batch-inference");
		classes.forEach((pc) -> {
			switch (pc.get("name").asString()) {
				case "realtime-inference" -> {
					assertThat(pc.get("tier").asString()).isEqualTo("P0");
					assertThat(pc.get("value").asLong()).isEqualTo(1_000_000);
					assertThat(pc.get("pods").asInt()).isEqualTo(1);
					assertThat(pc.get("managed").asBoolean()).isTrue();
				}
				case "batch-inference" -> assertThat(pc.get("preemptionPolicy").asString()).isEqualTo("Never");
				case "team-high" -> assertThat(pc.get("readOnly").asBoolean()).isTrue();
				default -> {
				}
			}
		});

		HttpResponse<String> inUse = send("DELETE", "/api/v1/priority-classes/batch-inference", ADMIN, null);
		assertThat(inUse.statusCode()).isEqualTo(409);
		assertThat(body(inUse).get("conflicts").get(0).asString()).isEqualTo("ml/batch-0");
		assertThat(send("PUT", "/api/v1/priority-classes/team-high", ADMIN, """
				{"value":6000}""").statusCode()).isEqualTo(409);
		assertThat(send("PUT", "/api/v1/priority-classes/system-node-critical", ADMIN, """
				{"value":6000}""").statusCode()).isEqualTo(409);
		HttpResponse<String> tooHigh = send("PUT", "/api/v1/priority-classes/too-high", ADMIN, """
				{"value":1000000001}""");
		assertThat(tooHigh.statusCode()).isEqualTo(400);
		assertThat(body(tooHigh).get("field").asString()).isEqualTo("value");

		assertThat(send("PUT", "/api/v1/priority-classes/scratch-inference", ADMIN, """
				{"value":50,"preemptionPolicy":"Never"}""").statusCode()).isEqualTo(200);
		assertThat(send("DELETE", "/api/v1/priority-classes/scratch-inference", ADMIN, null).statusCode())
			.isEqualTo(204);
		assertThat(texts(body(send("GET", "/api/v1/audit?kind=priority-class", VIEWER, null)), "target"))
			.contains("scratch-inference", "realtime-inference");
	}

	@Test
	void slicesShowTheMixedFleetWithTotalsAndUtilization() throws Exception {
		await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
			JsonNode slices = body(send("GET", "/api/v1/slices", VIEWER, null));
			assertThat(slices.get("endpoints")).hasSize(4);
			JsonNode totals = slices.get("totals").get("slices");
			assertThat(totals.get("nodes").asInt()).isEqualTo(3);
			assertThat(totals.get("gpus").asInt()).isEqualTo(8);
			assertThat(totals.get("capacity").asInt()).isEqualTo(2 + 8 + 8);
			assertThat(totals.get("requested").asInt()).isEqualTo(5);
			assertThat(totals.get("free").asInt()).isEqualTo(13);
			assertThat(totals.get("utilizationPercent").asDouble()).isEqualTo(27.8);
			assertThat(totals.get("requestedByTier").get("P0").asInt()).isEqualTo(1);
			assertThat(totals.get("requestedByTier").get("P2").asInt()).isEqualTo(2);
			assertThat(totals.get("requestedByTier").get("none").asInt()).isEqualTo(1);
			JsonNode ts4 = slices.get("nodes").get(2);
			assertThat(ts4.get("node").asString()).isEqualTo("ts4-1");
			assertThat(ts4.get("strategy").asString()).isEqualTo("time-slicing");
			assertThat(ts4.get("requestedByPriorityClass").get("batch-inference").asInt()).isEqualTo(2);
			assertThat(slices.get("totals").get("slots").asInt()).isEqualTo(32);
		});
	}

}
