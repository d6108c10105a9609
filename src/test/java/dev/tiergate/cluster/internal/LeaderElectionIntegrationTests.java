package dev.tiergate.cluster.internal;

import java.io.IOException;
import java.net.CookieManager;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import dev.tiergate.EmbeddedDefaults;
import dev.tiergate.FleetIntegrationTestSupport;
import dev.tiergate.LocalRedis;
import dev.tiergate.TiergateApplication;
import dev.tiergate.cluster.Leadership;
import dev.tiergate.fleet.KubernetesApiStandIn;
import dev.tiergate.replica.ReplicaIdentity;
import dev.tiergate.tier.Tier;
import dev.tiergate.tier.Tiers;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.apis.SchedulingV1Api;
import io.kubernetes.client.openapi.models.CoreV1Event;
import io.kubernetes.client.openapi.models.V1ConfigMap;
import io.kubernetes.client.openapi.models.V1Lease;
import io.kubernetes.client.openapi.apis.CoordinationV1Api;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Several replicas, one cluster: two (and, restarted, three) whole applications in one
 * JVM against one Redis and one Kubernetes API stand-in of their own, with short leader
 * election durations. Only the leader writes to the cluster (the other answers 503 naming
 * it); leadership moves when the leader dies abruptly (after the lease duration) and at
 * once when it shuts down; the tier definitions live in the ConfigMap, so a change made
 * on one replica is in force on the other, an invalid kubectl edit is refused by both
 * (last good kept, one event each), and a restarted replica starts from the ConfigMap
 * rather than from its properties.
 */
class LeaderElectionIntegrationTests {

	private static final String ADMIN = FleetIntegrationTestSupport.basic("admin", "admin");

	private static final Pattern CSRF = Pattern.compile("name=\"_csrf\" value=\"([^\"]+)\"");

	private static final JsonMapper json = JsonMapper.builder().build();

	private static final HttpClient http = HttpClient.newBuilder()
		.version(HttpClient.Version.HTTP_1_1)
		.connectTimeout(Duration.ofSeconds(5))
		.build();

	private final String namespace = "tiergate-" + UUID.randomUUID().toString().substring(0, 8);

	private final List<ConfigurableApplicationContext> contexts = new ArrayList<>();

	private KubernetesApiStandIn kubernetes;

	private ApiClient client;

	@BeforeEach
	void startKubernetes() {
		this.kubernetes = new KubernetesApiStandIn().start();
		this.client = this.kubernetes.apiClient();
	}

	@AfterEach
	void stopAll() {
		this.contexts.forEach(ConfigurableApplicationContext::close);
		this.kubernetes.close();
	}

	@Test
	void onlyTheLeaderWritesToTheClusterAndLeadershipMovesWhenTheLeaderDies() throws Exception {
		Replica first = start();
		Replica second = start();
		assertThat(first.leadership().isLeader()).isTrue();
		assertThat(second.leadership().isLeader()).isFalse();
		assertThat(second.leadership().leader()).contains(first.name());

		HttpResponse<String> refused = second.send("PUT", "/api/v1/priority-classes/team-a",
				"{\"value\":5000,\"description\":\"team A\"}");
		assertThat(refused.statusCode()).isEqualTo(503);
		assertThat(refused.headers().firstValue("Retry-After")).isPresent();
		JsonNode problem = json.readTree(refused.body());
		assertThat(problem.get("type").asString()).isEqualTo("https://tiergate.dev/problems/not-leader");
		assertThat(problem.get("leader").asString()).isEqualTo(first.name());
		assertThat(problem.get("detail").asString()).contains(first.name());
		assertThat(new SchedulingV1Api(this.client).listPriorityClass().execute().getItems()).isEmpty();

		HttpResponse<String> written = first.send("PUT", "/api/v1/priority-classes/team-a",
				"{\"value\":5000,\"description\":\"team A\"}");
		assertThat(written.statusCode()).isEqualTo(200);
		assertThat(new SchedulingV1Api(this.client).readPriorityClass("team-a").execute().getValue()).isEqualTo(5000);

		// The leader dies without releasing the Lease: the other replica takes over once
		// the Lease has not changed for its duration (2 s here).
		first.context.getBean(LeaseLeaderElection.class).halt();
		assertThat(first.leadership().isLeader()).isFalse();
		await("the second replica leads").atMost(Duration.ofSeconds(20)).until(second.leadership()::isLeader);
		V1Lease lease = new CoordinationV1Api(this.client).readNamespacedLease("tiergate-leader", this.namespace)
			.execute();
		assertThat(lease.getSpec().getHolderIdentity()).isEqualTo(second.name());
		assertThat(lease.getSpec().getLeaseTransitions()).isEqualTo(1);
		assertThat(lease.getSpec().getLeaseDurationSeconds()).isEqualTo(2);

		assertThat(second.send("PUT", "/api/v1/priority-classes/team-a", "{\"value\":6000}").statusCode())
			.isEqualTo(200);
		HttpResponse<String> nowRefused = first.send("PUT", "/api/v1/priority-classes/team-a", "{\"value\":7000}");
		assertThat(nowRefused.statusCode()).isEqualTo(503);
		assertThat(new SchedulingV1Api(this.client).readPriorityClass("team-a").execute().getValue()).isEqualTo(6000);
		assertThat(metric(second, "tiergate_leader{")).contains("replica=\"" + second.name() + "\"} 1.0");
	}

	@Test
	void tierSettingsLiveInTheConfigMapForEveryReplica() throws Exception {
		Replica first = start("tiergate.tiers.p0.reserved-share=0.35");
		// Its properties differ, but the ConfigMap exists: they seed nothing.
		Replica second = start("tiergate.tiers.p0.reserved-share=0.2");
		assertThat(reservedShare(second)).isEqualTo(0.35);
		V1ConfigMap stored = configMap();
		assertThat(stored.getData().get("tiers.json")).contains("\"reservedShare\" : 0.35");

		HttpResponse<String> refused = second.send("PUT", "/api/v1/tiers", "{\"P0\":{\"reservedShare\":0.4}}");
		assertThat(refused.statusCode()).isEqualTo(503);
		assertThat(json.readTree(refused.body()).get("leader").asString()).isEqualTo(first.name());
		assertThat(reservedShare(first)).isEqualTo(0.35);

		assertThat(first.send("PUT", "/api/v1/tiers", "{\"P0\":{\"reservedShare\":0.4}}").statusCode()).isEqualTo(200);
		assertThat(reservedShare(first)).isEqualTo(0.4);
		await("the change is in force on the other replica").atMost(Duration.ofSeconds(10))
			.until(() -> reservedShare(second) == 0.4);
		assertThat(configMap().getData().get("tiers.json")).contains("\"reservedShare\" : 0.4");

		// An invalid edit made with kubectl (here: the official client) is refused by
		// both.
		V1ConfigMap edited = configMap();
		edited.getData()
			.put("tiers.json",
					edited.getData().get("tiers.json").replace("\"reservedShare\" : 0.4", "\"reservedShare\" : 1.5"));
		String badRevision = new CoreV1Api(this.client)
			.replaceNamespacedConfigMap("tiergate-tiers", this.namespace, edited)
			.execute()
			.getMetadata()
			.getResourceVersion();
		for (Replica replica : List.of(first, second)) {
			Tiers tiers = replica.context.getBean(Tiers.class);
			await("the edit is refused").atMost(Duration.ofSeconds(10)).until(() -> tiers.rejection().isPresent());
			assertThat(tiers.rejection().get().revision()).isEqualTo(badRevision);
			assertThat(tiers.rejection().get().reason()).contains("P0.reservedShare");
			assertThat(tiers.get(Tier.P0).reservedShare()).isEqualTo(0.4);
			assertThat(replica.management("/actuator/health").body())
				.contains("\"rejectedRevision\":\"" + badRevision + "\"");
		}
		await("one event per replica").atMost(Duration.ofSeconds(10)).until(() -> rejectionEvents().size() == 2);
		assertThat(rejectionEvents()).extracting(CoreV1Event::getReportingInstance)
			.containsExactlyInAnyOrder(first.name(), second.name());
		assertThat(rejectionEvents()).allSatisfy((event) -> {
			assertThat(event.getType()).isEqualTo("Warning");
			assertThat(event.getInvolvedObject().getName()).isEqualTo("tiergate-tiers");
			assertThat(event.getMessage()).contains(badRevision).contains("P0.reservedShare");
		});
		assertThat(first.page("/tiers")).contains("id=\"rejected\"").contains(badRevision).contains("P0.reservedShare");

		// A valid edit ends the refusal everywhere.
		edited = configMap();
		edited.getData()
			.put("tiers.json",
					edited.getData().get("tiers.json").replace("\"reservedShare\" : 1.5", "\"reservedShare\" : 0.45"));
		new CoreV1Api(this.client).replaceNamespacedConfigMap("tiergate-tiers", this.namespace, edited).execute();
		for (Replica replica : List.of(first, second)) {
			Tiers tiers = replica.context.getBean(Tiers.class);
			await("the fixed edit is in force").atMost(Duration.ofSeconds(10))
				.until(() -> tiers.get(Tier.P0).reservedShare() == 0.45 && tiers.rejection().isEmpty());
		}

		// The leader shuts down and releases the Lease: the other replica leads at its
		// next
		// try, and a restarted replica starts from the ConfigMap.
		first.context.close();
		await("the second replica leads").atMost(Duration.ofSeconds(10)).until(second.leadership()::isLeader);
		assertThat(second.send("PUT", "/api/v1/tiers", "{\"P1\":{\"maxQueueDepth\":4321}}").statusCode())
			.isEqualTo(200);
		Replica restarted = start("tiergate.tiers.p0.reserved-share=0.1");
		assertThat(reservedShare(restarted)).isEqualTo(0.45);
		assertThat(restarted.context.getBean(Tiers.class).get(Tier.P1).maxQueueDepth()).isEqualTo(4321);
		assertThat(restarted.leadership().isLeader()).isFalse();
		assertThat(restarted.leadership().leader()).contains(second.name());
	}

	private V1ConfigMap configMap() throws Exception {
		return new CoreV1Api(this.client).readNamespacedConfigMap("tiergate-tiers", this.namespace).execute();
	}

	private List<CoreV1Event> rejectionEvents() throws Exception {
		return new CoreV1Api(this.client).listNamespacedEvent(this.namespace)
			.execute()
			.getItems()
			.stream()
			.filter((event) -> "TierSettingsRejected".equals(event.getReason()))
			.toList();
	}

	private static double reservedShare(Replica replica) throws Exception {
		HttpResponse<String> tiers = replica.send("GET", "/api/v1/tiers", null);
		assertThat(tiers.statusCode()).isEqualTo(200);
		return json.readTree(tiers.body()).get("P0").get("reservedShare").asDouble();
	}

	private static String metric(Replica replica, String prefix) throws Exception {
		return replica.management("/actuator/prometheus")
			.body()
			.lines()
			.filter((line) -> line.startsWith(prefix))
			.findFirst()
			.orElse("");
	}

	private Replica start(String... properties) {
		String[] all = Stream.concat(
				Stream.of("server.port=0", "management.server.port=0",
						"spring.data.redis.database=" + LocalRedis.TEST_DATABASE,
						"spring.data.redis.timeout=" + LocalRedis.TEST_TIMEOUT,
						"tiergate.audit.key=tg:audit:test-" + this.namespace,
						"tiergate.cluster.api-server=" + this.kubernetes.url(),
						"tiergate.cluster.own-namespace=" + this.namespace, "tiergate.cluster.namespaces=ml",
						"tiergate.cluster.leader-election.lease-duration=2s",
						"tiergate.cluster.leader-election.renew-deadline=1500ms",
						"tiergate.cluster.leader-election.retry-period=250ms", "tiergate.batch.workers=false",
						"logging.level.io.fabric8.mockwebserver=WARN", "logging.level.io.kubernetes=ERROR"),
				Stream.of(properties))
			.toArray(String[]::new);
		ConfigurableApplicationContext context = new SpringApplicationBuilder(TiergateApplication.class,
				EmbeddedDefaults.class)
			.run(Stream.of(all).map((property) -> "--" + property).toArray(String[]::new));
		this.contexts.add(context);
		return new Replica(context);
	}

	private record Replica(ConfigurableApplicationContext context) {

		String name() {
			return this.context.getBean(ReplicaIdentity.class).name();
		}

		Leadership leadership() {
			return this.context.getBean(Leadership.class);
		}

		HttpResponse<String> send(String method, String path, String body) throws IOException, InterruptedException {
			return request(this.context.getEnvironment().getProperty("local.server.port"), method, path, body);
		}

		/**
		 * A dashboard page, as signed-in admin.
		 */
		String page(String path) throws IOException, InterruptedException {
			String base = "http://127.0.0.1:" + this.context.getEnvironment().getProperty("local.server.port");
			HttpClient browser = HttpClient.newBuilder().cookieHandler(new CookieManager()).build();
			Matcher csrf = CSRF.matcher(browser
				.send(HttpRequest.newBuilder(URI.create(base + "/login")).build(), HttpResponse.BodyHandlers.ofString())
				.body());
			assertThat(csrf.find()).isTrue();
			HttpResponse<String> login = browser.send(HttpRequest.newBuilder(URI.create(base + "/login"))
				.header("Content-Type", "application/x-www-form-urlencoded")
				.POST(HttpRequest.BodyPublishers.ofString("username=admin&password=admin&_csrf=" + csrf.group(1)))
				.build(), HttpResponse.BodyHandlers.ofString());
			assertThat(login.statusCode()).isEqualTo(302);
			return browser
				.send(HttpRequest.newBuilder(URI.create(base + path)).build(), HttpResponse.BodyHandlers.ofString())
				.body();
		}

		HttpResponse<String> management(String path) throws IOException, InterruptedException {
			return request(this.context.getEnvironment().getProperty("local.management.port"), "GET", path, null);
		}

		private static HttpResponse<String> request(String port, String method, String path, String body)
				throws IOException, InterruptedException {
			return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
				.timeout(Duration.ofSeconds(30))
				.header("Content-Type", "application/json")
				.header("Authorization", ADMIN)
				.method(method,
						(body != null) ? HttpRequest.BodyPublishers.ofString(body)
								: HttpRequest.BodyPublishers.noBody())
				.build(), HttpResponse.BodyHandlers.ofString());
		}

	}

}
