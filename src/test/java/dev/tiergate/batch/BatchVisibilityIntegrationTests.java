package dev.tiergate.batch;

import java.net.CookieManager;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Value;

import dev.tiergate.EmbeddedDefaults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Tests for what operators see of batch work: the dashboard's batches page (progress
 * bars, rate, expected completion) and a batch's page, the batch metrics, and the Redis
 * persistence health.
 */
class BatchVisibilityIntegrationTests extends BatchTestSupport {

	@Value("${local.management.port}")
	private int managementPort;

	private HttpResponse<String> management(String path) throws Exception {
		return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + this.managementPort + path)).build(),
				HttpResponse.BodyHandlers.ofString());
	}

	private HttpClient loggedIn() throws Exception {
		HttpClient browser = HttpClient.newBuilder()
			.cookieHandler(new CookieManager())
			.followRedirects(HttpClient.Redirect.NEVER)
			.build();
		String login = browser.send(HttpRequest.newBuilder(uri("/login")).build(), HttpResponse.BodyHandlers.ofString())
			.body();
		Matcher csrf = Pattern.compile("name=\"_csrf\"\\s+value=\"([^\"]+)\"").matcher(login);
		assertThat(csrf.find()).as(login).isTrue();
		String form = "username=viewer&password=viewer&_csrf="
				+ URLEncoder.encode(csrf.group(1), StandardCharsets.UTF_8);
		HttpResponse<String> posted = browser.send(HttpRequest.newBuilder(uri("/login"))
			.header("Content-Type", "application/x-www-form-urlencoded")
			.POST(HttpRequest.BodyPublishers.ofString(form))
			.build(), HttpResponse.BodyHandlers.ofString());
		assertThat(posted.statusCode()).isEqualTo(302);
		return browser;
	}

	@Test
	void theDashboardShowsBatchesWithProgressAndEachBatchsPage() throws Exception {
		String key = EmbeddedDefaults.BATCHCO_KEY;
		String fileId = uploadFile(key, Uploads.chatFile(5, LLAMA, 4));
		String id = json.readTree(createBatch(key, fileId, "/v1/chat/completions").body()).get("id").asString();
		awaitStatus(key, id, "completed");
		HttpClient browser = loggedIn();
		String page = browser
			.send(HttpRequest.newBuilder(uri("/batches")).build(), HttpResponse.BodyHandlers.ofString())
			.body();
		assertThat(page).contains("data-batch=\"" + id + "\"").contains("class=\"batch-bar\"").contains("5 / 5");
		HttpResponse<String> detail = browser.send(HttpRequest.newBuilder(uri("/batches/batchco/" + id)).build(),
				HttpResponse.BodyHandlers.ofString());
		assertThat(detail.statusCode()).isEqualTo(200);
		assertThat(detail.body()).contains("5 total: 5 completed, 0 failed, 0 in flight, 0 queued")
			.contains("completed");
		assertThat(browser
			.send(HttpRequest.newBuilder(uri("/batches/batchco/batch_nope")).build(),
					HttpResponse.BodyHandlers.ofString())
			.statusCode()).isEqualTo(404);
	}

	@Test
	void metricsCountItemsAttemptsAndBatches() throws Exception {
		String key = EmbeddedDefaults.BATCHCO_KEY;
		// The metrics are this replica's: the workers of other application contexts of
		// the test JVM share the Redis and may take every item of one batch, so run
		// one batch, and more until this replica has finished one of their items (at most
		// twenty: on a slow machine five batches of four items all went to other
		// contexts).
		for (int i = 0; i == 0 || i < 20 && !management("/actuator/prometheus").body()
			.matches("(?s).*tiergate_batch_items_total\\{[^}]*outcome=\"completed\"[^}]*\\} [1-9].*"); i++) {
			String fileId = uploadFile(key, Uploads.chatFile(4, LLAMA, 4));
			awaitStatus(key,
					json.readTree(createBatch(key, fileId, "/v1/chat/completions").body()).get("id").asString(),
					"completed");
		}
		await().untilAsserted(() -> {
			String metrics = management("/actuator/prometheus").body();
			assertThat(metrics).contains("# HELP tiergate_batch_items_total")
				.containsPattern("tiergate_batch_items_total\\{[^}]*outcome=\"completed\"[^}]*\\} [1-9]")
				.contains("# HELP tiergate_batch_item_attempts")
				.containsPattern("tiergate_batch_item_attempts_count\\{[^}]*\\} [1-9]")
				.contains("# HELP tiergate_batches ")
				.containsPattern("tiergate_batches\\{[^}]*status=\"in_progress\"");
		});
	}

	@Test
	void healthReportsRedisPersistence() throws Exception {
		assertThat(management("/actuator/health").body()).contains("\"redisPersistence\"").contains("\"restartSafe\"");
	}

}
