package dev.tiergate.web;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;

import org.apache.catalina.connector.Connector;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.tomcat.TomcatWebServer;
import org.springframework.boot.web.server.servlet.context.ServletWebServerApplicationContext;
import org.springframework.beans.factory.annotation.Value;

import dev.tiergate.DashboardSession;
import dev.tiergate.EmbeddedDefaults;
import dev.tiergate.FleetIntegrationTestSupport;
import dev.tiergate.fleet.SimulatedGpuFleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Tests for the operations baseline: probes, the management port's narrow exposure,
 * metrics, and who may reach what.
 */
class OperationsIntegrationTests extends FleetIntegrationTestSupport {

	@Value("${local.management.port}")
	private int managementPort;

	private HttpResponse<String> management(String path) throws Exception {
		return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + this.managementPort + path))
			.timeout(Duration.ofSeconds(10))
			.build(), HttpResponse.BodyHandlers.ofString());
	}

	@Test
	void livenessAndReadinessAreOnTheAppPortWithoutLogin() throws Exception {
		assertThat(get("/livez", null).statusCode()).isEqualTo(200);
		await().atMost(Duration.ofSeconds(10)).until(() -> get("/readyz", null).statusCode() == 200);
	}

	@Test
	void theRunningTomcatHasTheSmallerConnectionBuffers(@Autowired ServletWebServerApplicationContext context)
			throws Exception {
		Connector connector = ((TomcatWebServer) context.getWebServer()).getTomcat().getConnector();
		assertThat(connector.getProperty("socket.appReadBufSize")).hasToString("1024");
		assertThat(connector.getProperty("socket.appWriteBufSize")).hasToString("1024");
		assertThat(connector.getProtocolHandler().getDesiredBufferSize()).isEqualTo(1024);
		assertThat(connector.getProperty("maxTrailerSize")).hasToString("1024");
		assertThat(connector.getProperty("maxHttpResponseHeaderSize")).hasToString("4096");
		assertThat(get("/livez", null).statusCode()).isEqualTo(200);
		assertThat(((SizedBuffersHttp11NioProtocol) connector.getProtocolHandler()).smallReaders())
			.as("requests made with the small reader buffer")
			.isPositive();
	}

	/**
	 * A client's connection carries 1,000 requests (nginx's default), not Tomcat's 100:
	 * with 100, every hundredth request paid a new connection, 1% of them.
	 */
	@Test
	void aClientConnectionCarriesAThousandRequests() throws Exception {
		try (Socket socket = new Socket("127.0.0.1", this.port)) {
			socket.setSoTimeout(10_000);
			OutputStream out = socket.getOutputStream();
			BufferedReader in = new BufferedReader(
					new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
			for (int i = 1; i <= 1000; i++) {
				out.write("GET /livez HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
				out.flush();
				String status = in.readLine();
				assertThat(status).as("request %d's status line", i).isNotNull().startsWith("HTTP/1.1 200");
				int length = 0;
				boolean chunked = false;
				boolean close = false;
				for (String line = in.readLine(); line != null && !line.isEmpty(); line = in.readLine()) {
					String lower = line.toLowerCase(Locale.ROOT);
					if (lower.startsWith("content-length:")) {
						length = Integer.parseInt(lower.substring(15).strip());
					}
					chunked |= lower.equals("transfer-encoding: chunked");
					close |= lower.equals("connection: close");
				}
				assertThat(close).as("request %d closed the connection", i).isEqualTo(i == 1000);
				if (chunked) {
					for (int size = Integer.parseInt(in.readLine().strip(), 16); size > 0; size = Integer
						.parseInt(in.readLine().strip(), 16)) {
						assertThat(in.skip(size + 2)).isEqualTo(size + 2);
					}
					assertThat(in.readLine()).isEmpty();
				}
				else {
					assertThat(in.skip(length)).isEqualTo(length);
				}
			}
		}
	}

	/**
	 * Waits until a small chat completion is answered 200 (the fleet may still be
	 * starting).
	 */
	private void answerOneCompletion(Duration atMost) {
		await().atMost(atMost)
			.until(() -> post("/v1/chat/completions", EmbeddedDefaults.ACME_KEY, chat(SimulatedGpuFleet.LLAMA, 2))
				.statusCode() == 200);
	}

	@Test
	void openAiRequestsAreTimedByTheProxyAndOtherRequestsByHttpServerRequests() throws Exception {
		answerOneCompletion(Duration.ofSeconds(20));
		assertThat(get("/api/v1/tiers", "Bearer " + EmbeddedDefaults.CI_TOKEN).statusCode()).isEqualTo(200);
		String metrics = management("/actuator/prometheus").body();
		assertThat(metrics).contains("tiergate_proxy_requests_total{")
			.containsPattern("http_server_requests_seconds_count\\{[^}]*uri=\"/api/v1/tiers\"")
			.doesNotContainPattern("http_server_requests_seconds_count\\{[^}]*uri=\"/v1/")
			.doesNotContain("lettuce_")
			.doesNotContain("logback_events")
			.contains("tiergate_quota_settlement_batch_count");
	}

	@Test
	void managementExposesOnlyHealthInfoAndPrometheus() throws Exception {
		assertThat(management("/actuator/health").statusCode()).isEqualTo(200);
		assertThat(management("/actuator/info").statusCode()).isEqualTo(200);
		assertThat(management("/actuator/prometheus").statusCode()).isEqualTo(200);
		for (String hidden : new String[] { "/actuator/env", "/actuator/beans", "/actuator/heapdump",
				"/actuator/configprops", "/actuator/loggers" }) {
			assertThat(management(hidden).statusCode()).as(hidden).isNotEqualTo(200);
		}
		assertThat(management("/actuator").body()).doesNotContain("env").doesNotContain("beans");
	}

	@Test
	void theProbesOnThePublicPortSayOnlyTheStatus() throws Exception {
		for (String probe : new String[] { "/livez", "/readyz" }) {
			HttpResponse<String> response = http.send(
					HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + this.port + probe)).build(),
					HttpResponse.BodyHandlers.ofString());
			assertThat(response.statusCode()).as(probe).isEqualTo(200);
			assertThat(response.body()).as(probe).isEqualTo("{\"status\":\"UP\"}");
		}
		// The management port's health still says which part is which.
		assertThat(management("/actuator/health/readiness").statusCode()).isEqualTo(200);
		assertThat(management("/actuator/health").body()).contains("\"inferencePods\"");
	}

	@Test
	void healthSaysWhichPartsAreUpAndWhichQuotaModeIsActive() throws Exception {
		String health = management("/actuator/health").body();
		assertThat(health).contains("\"kubernetesInformers\"").contains("\"quota\"").contains("\"mode\":\"redis\"");
		// A single replica owns every slot: its readiness does not wait for any.
		assertThat(health).contains("\"slotOwnership\"").contains("off: this replica owns every slot");
	}

	@Test
	void prometheusShowsTiergateMetricsAfterTraffic() throws Exception {
		answerOneCompletion(Duration.ofSeconds(10));
		String metrics = management("/actuator/prometheus").body();
		assertThat(metrics).contains("tiergate_proxy_requests_total{")
			.contains("tiergate_dispatch_queue_wait_seconds")
			.contains("tiergate_routing_endpoints")
			.contains("outcome=\"done\"")
			.contains("tiergate_dispatch_queue_depth{")
			.contains("tiergate_dispatch_inflight{")
			.contains("tiergate_dispatch_preemptions_total{")
			.contains("tiergate_dispatch_rejections_total{")
			.contains("tiergate_slots{")
			.contains("tiergate_dispatch_queue_wait_seconds_bucket{")
			.contains("le=\"0.005\"");
		// Every Tiergate series is documented (promtool's lint asks for help text).
		metrics.lines()
			.filter((line) -> line.startsWith("# HELP tiergate_"))
			.forEach((line) -> assertThat(line.split(" ", 4)).as(line)
				.hasSize(4)
				.satisfies((parts) -> assertThat(parts[3]).isNotBlank()));
	}

	@Test
	void dashboardAsksForALogin() throws Exception {
		HttpResponse<String> response = get("/", null);
		assertThat(response.statusCode()).isEqualTo(302);
		assertThat(response.headers().firstValue("Location").orElseThrow()).endsWith("/login");
		assertThat(get("/login", null).body()).contains("Sign in");
	}

	@Test
	void aLongDashboardAddressIsSentToTheLoginWithoutBeingKept() throws Exception {
		// The page asked for is kept in a cookie; an address too long for one (here 6,500
		// characters, within the request head's 8 KB) made a response head over the
		// container's limit, answered 500.
		HttpResponse<String> response = get("/queues?q=" + "a".repeat(6500), null);
		assertThat(response.statusCode()).isEqualTo(302);
		assertThat(response.headers().firstValue("Location").orElseThrow()).endsWith("/login");
		assertThat(response.headers().allValues("Set-Cookie")).noneMatch((cookie) -> cookie.startsWith("REDIRECT_URI"));
		HttpResponse<String> shortAddress = get("/queues?q=a", null);
		assertThat(shortAddress.statusCode()).isEqualTo(302);
		assertThat(shortAddress.headers().allValues("Set-Cookie"))
			.anyMatch((cookie) -> cookie.startsWith("REDIRECT_URI"));
	}

	@Test
	void aQueryParameterOfTheWrongTypeIs400NamingIt() throws Exception {
		// Found by a sweep of bad inputs: these were 500 internal_error.
		String operator = "Bearer " + EmbeddedDefaults.CI_TOKEN;
		for (String value : new String[] { "x", "99999999999999999999", "1e400" }) {
			HttpResponse<String> audit = get("/api/v1/audit?limit=" + value, operator);
			assertThat(audit.statusCode()).isEqualTo(400);
			assertThat(audit.body()).contains("invalid-request").contains("\"field\":\"limit\"");
			assertThat(audit.body()).contains("Parameter 'limit' must be a whole number within range");
			for (String path : new String[] { "/v1/files?limit=", "/v1/batches?limit=" }) {
				HttpResponse<String> openAi = get(path + value, "Bearer " + EmbeddedDefaults.BATCHCO_KEY);
				assertThat(openAi.statusCode()).as(path + value + ": " + openAi.body()).isEqualTo(400);
				assertThat(openAi.body()).contains("\"param\":\"limit\"").contains("invalid_value");
			}
		}
	}

	@Test
	void everyDashboardPageRendersForASignedInViewer() throws Exception {
		DashboardSession viewer = DashboardSession.signIn(uri("/"), "viewer", "viewer");
		for (String page : new String[] { "/", "/fragments/overview", "/queues", "/fragments/queues",
				"/queues/waits.json", "/endpoints", "/fragments/endpoints", "/cluster/sharing",
				"/cluster/priority-classes", "/audit", "/quota/tenants", "/quota/tenants/acme", "/replicas",
				"/fragments/replicas" }) {
			HttpResponse<String> response = viewer.get(page);
			assertThat(response.statusCode()).as(page + ": " + response.body()).isEqualTo(200);
		}
		// A viewer's forged change, with a valid CSRF token from the page's sign-out
		// form, is refused.
		assertThat(viewer.post("/cluster/priority-classes/sync", "").statusCode()).isEqualTo(403);
	}

	@Test
	void restApiNeedsAnOperatorOrACiToken() throws Exception {
		HttpResponse<String> anonymous = get("/api/v1/anything", null);
		assertThat(anonymous.statusCode()).isEqualTo(401);
		assertThat(anonymous.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/problem+json");
		assertThat(get("/api/v1/anything", basic("admin", "wrong")).statusCode()).isEqualTo(401);
		assertThat(get("/api/v1/anything", "Bearer tgo-not-a-token").statusCode()).isEqualTo(401);
		assertThat(get("/api/v1/anything", "Bearer " + EmbeddedDefaults.ACME_KEY).statusCode())
			.as("tenant keys do not open the operator API")
			.isEqualTo(401);
		// Authenticated callers get past security to the (absent) resource.
		assertThat(get("/api/v1/anything", basic("admin", "admin")).statusCode()).isEqualTo(404);
		assertThat(get("/api/v1/anything", "Bearer " + EmbeddedDefaults.CI_TOKEN).statusCode()).isEqualTo(404);
	}

	@Test
	void viewersCannotChangeAnything() throws Exception {
		HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri("/api/v1/anything"))
			.header("Authorization", basic("viewer", "viewer"))
			.POST(HttpRequest.BodyPublishers.ofString("{}"))
			.build(), HttpResponse.BodyHandlers.ofString());
		assertThat(response.statusCode()).isEqualTo(403);
		assertThat(response.body()).doesNotContain("Exception");
	}

	@Test
	void aForgedCrossSiteFormPostWithCachedBasicCredentialsIsRefused() throws Exception {
		// What a page on another site can make a browser send: a simple form POST, to
		// which the browser adds the operator's cached Basic credentials.
		for (String contentType : new String[] { "application/x-www-form-urlencoded", "text/plain",
				"multipart/form-data; boundary=x" }) {
			HttpResponse<String> forged = http.send(HttpRequest.newBuilder(uri("/api/v1/tenants/acme/keys"))
				.header("Authorization", basic("admin", "admin"))
				.header("Content-Type", contentType)
				.POST(HttpRequest.BodyPublishers.ofString("a=b"))
				.build(), HttpResponse.BodyHandlers.ofString());
			assertThat(forged.statusCode()).as(contentType + ": " + forged.body()).isEqualTo(403);
			assertThat(forged.body()).contains("X-Requested-With");
		}
		HttpResponse<String> bodiless = http.send(HttpRequest.newBuilder(uri("/api/v1/priority-classes/sync"))
			.header("Authorization", basic("admin", "admin"))
			.POST(HttpRequest.BodyPublishers.noBody())
			.build(), HttpResponse.BodyHandlers.ofString());
		assertThat(bodiless.statusCode()).isEqualTo(403);
	}

	@Test
	void scriptsAndCiKeepWorkingWithANonSimpleHeaderOrTheirToken() throws Exception {
		HttpResponse<String> curl = http.send(HttpRequest.newBuilder(uri("/api/v1/anything"))
			.header("Authorization", basic("admin", "admin"))
			.header("X-Requested-With", "curl")
			.POST(HttpRequest.BodyPublishers.noBody())
			.build(), HttpResponse.BodyHandlers.ofString());
		assertThat(curl.statusCode()).isEqualTo(404);
		HttpResponse<String> json = send("POST", "/api/v1/anything", basic("admin", "admin"), "{}");
		assertThat(json.statusCode()).isEqualTo(404);
		HttpResponse<String> ci = http.send(HttpRequest.newBuilder(uri("/api/v1/anything"))
			.header("Authorization", "Bearer " + EmbeddedDefaults.CI_TOKEN)
			.POST(HttpRequest.BodyPublishers.noBody())
			.build(), HttpResponse.BodyHandlers.ofString());
		assertThat(ci.statusCode()).isEqualTo(404);
	}

	@Test
	void anonymousRequestsCreateNoSession() throws Exception {
		for (String path : new String[] { "/anything", "/", "/login", "/queues" }) {
			HttpResponse<String> response = get(path, null);
			assertThat(response.statusCode()).as(path).isIn(200, 302);
			assertThat(response.headers().allValues("Set-Cookie")).as(path)
				.noneMatch((cookie) -> cookie.startsWith("JSESSIONID"));
		}
	}

	@Test
	void theManagementPortAnswers404ForWhatItDoesNotExposeWithoutRedirectsOrSessions() throws Exception {
		for (String path : new String[] { "/actuator/heapdump", "/actuator/env", "/anything", "/login" }) {
			HttpResponse<String> response = management(path);
			assertThat(response.statusCode()).as(path).isEqualTo(404);
			assertThat(response.headers().firstValue("Location")).as(path).isEmpty();
			assertThat(response.headers().allValues("Set-Cookie")).as(path).isEmpty();
		}
		HttpResponse<String> post = http
			.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + this.managementPort + "/actuator/health"))
				.POST(HttpRequest.BodyPublishers.noBody())
				.build(), HttpResponse.BodyHandlers.ofString());
		assertThat(post.statusCode()).isIn(404, 405);
		assertThat(post.headers().firstValue("Location")).isEmpty();
	}

}
