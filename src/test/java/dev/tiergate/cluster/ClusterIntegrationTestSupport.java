package dev.tiergate.cluster;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.UUID;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Import;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import dev.tiergate.EmbeddedDefaults;
import dev.tiergate.FleetIntegrationTestSupport;
import dev.tiergate.LocalRedis;
import dev.tiergate.TiergateApplication;
import io.kubernetes.client.openapi.ApiClient;

/**
 * Base of the tests that change the cluster: the whole application against
 * {@link ClusterFleet} (its own API stand-in), the local Redis with an audit stream of
 * its own, seeded like the embedded default.
 */
@SpringBootTest(classes = TiergateApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "management.server.port=0", "spring.data.redis.database=" + LocalRedis.TEST_DATABASE,
				"spring.data.redis.timeout=" + LocalRedis.TEST_TIMEOUT, "logging.level.io.fabric8.mockwebserver=WARN",
				"tiergate.sharing.model-memory[llama]=16GB" })
@Import(EmbeddedDefaults.class)
abstract class ClusterIntegrationTestSupport {

	static final String AUDIT_KEY = "tg:audit:test-" + UUID.randomUUID();

	protected static final HttpClient http = HttpClient.newBuilder()
		.version(HttpClient.Version.HTTP_1_1)
		.connectTimeout(Duration.ofSeconds(5))
		.build();

	@LocalServerPort
	protected int port;

	@DynamicPropertySource
	static void cluster(DynamicPropertyRegistry registry) {
		registry.add("tiergate.cluster.api-server", () -> ClusterFleet.shared().url());
		registry.add("tiergate.audit.key", () -> AUDIT_KEY);
	}

	protected static ApiClient kubernetes() {
		return ClusterFleet.shared().apiClient();
	}

	protected URI uri(String path) {
		return URI.create("http://127.0.0.1:" + this.port + path);
	}

	protected static String basic(String user, String password) {
		return FleetIntegrationTestSupport.basic(user, password);
	}

	protected static final String ADMIN = basic("admin", "admin");

	protected static final String VIEWER = basic("viewer", "viewer");

	protected static final String CI = "Bearer " + EmbeddedDefaults.CI_TOKEN;

	protected HttpResponse<String> send(String method, String path, String authorization, String body)
			throws IOException, InterruptedException {
		HttpRequest.Builder request = HttpRequest.newBuilder(uri(path))
			.timeout(Duration.ofSeconds(30))
			.header("Content-Type", "application/json")
			.method(method,
					(body != null) ? HttpRequest.BodyPublishers.ofString(body) : HttpRequest.BodyPublishers.noBody());
		if (authorization != null) {
			request.header("Authorization", authorization);
		}
		return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
	}

}
