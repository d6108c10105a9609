package dev.tiergate.quota;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

import org.springframework.beans.factory.annotation.Autowired;

import dev.tiergate.DashboardSession;
import dev.tiergate.FleetIntegrationTestSupport;
import dev.tiergate.HeadlessChromium;
import dev.tiergate.audit.AuditEntry;
import dev.tiergate.audit.AuditLog;
import dev.tiergate.fleet.SimulatedGpuFleet;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests of the tenants pages in a real headless Chromium: the listing, a tenant's usage
 * with its Chart.js chart (drawn under the page's strict CSP) and CSV export, and
 * operators managing tenants and keys through the forms (with viewers seeing none and
 * refused when they post anyway).
 */
class QuotaDashboardBrowserTests extends FleetIntegrationTestSupport {

	@Autowired
	private TenantStore tenants;

	@Autowired
	private AuditLog audit;

	private WebDriver browser;

	private final String id = "ui-" + UUID.randomUUID().toString().substring(0, 8);

	@BeforeEach
	void openBrowser() {
		this.browser = HeadlessChromium.start();
	}

	@AfterEach
	void closeBrowser() {
		if (this.browser != null) {
			this.browser.quit();
		}
	}

	@Test
	void anOperatorSeesTenantsAndATenantsUsageChart() throws Exception {
		String key = TenantsApiIntegrationTests.on(this.port).createTenant(this.id, "{\"requestsPerMinute\":50}");
		assertThat(post("/v1/chat/completions", key, chat(SimulatedGpuFleet.LLAMA, 9)).statusCode()).isEqualTo(200);

		WebDriverWait waiting = new WebDriverWait(this.browser, Duration.ofSeconds(15));
		this.browser.get(uri("/login").toString());
		this.browser.findElement(By.id("username")).sendKeys("viewer");
		this.browser.findElement(By.id("password")).sendKeys("viewer");
		this.browser.findElement(By.id("sign-in")).click();
		waiting.until(ExpectedConditions.urlMatches(".*/$"));
		this.browser.findElement(By.linkText("Tenants")).click();
		waiting.until(ExpectedConditions.presenceOfElementLocated(By.id("tenants")));
		assertThat(this.browser.findElement(By.id("quota-mode")).getText()).isEqualTo("redis");
		assertThat(this.browser.findElement(By.id("tenants")).getText()).contains(this.id).contains("1 / 50");

		this.browser.findElement(By.cssSelector("a[href='/quota/tenants/" + this.id + "']")).click();
		waiting.until(ExpectedConditions.presenceOfElementLocated(By.id("usage-chart")));
		waiting.until((d) -> Boolean.TRUE
			.equals(((JavascriptExecutor) d).executeScript("return window.tiergateUsageChart !== undefined")));
		Object p1Tokens = ((JavascriptExecutor) this.browser).executeScript(
				"return window.tiergateUsageChart.data.datasets.find(d => d.label === 'P1').data.reduce((a, b) => a + b, 0)");
		assertThat(((Number) p1Tokens).longValue()).isGreaterThan(9);
		assertThat(this.browser.findElement(By.id("total-requests")).getText()).isEqualTo("1");
		assertThat(this.browser.findElement(By.id("total-completion")).getText()).isEqualTo("9");
		assertThat(this.browser.findElement(By.id("usage")).getText()).contains(SimulatedGpuFleet.LLAMA);
		assertThat(this.browser.findElement(By.id("usage-csv")).getAttribute("href")).contains("/usage.csv");
		screenshot("tenant-usage.png");
	}

	@Test
	void anOperatorManagesATenantAndItsKeysFromTheDashboard() throws Exception {
		WebDriverWait waiting = signIn("admin", "admin");
		this.browser.get(uri("/quota/tenants").toString());
		fillTenantForm(this.id, "UI tenant", "50");
		new Select(this.browser.findElement(By.id("defaultTier"))).selectByValue("P1");
		this.browser.findElement(By.id("create-button")).click();
		waiting.until(ExpectedConditions.urlToBe(uri("/quota/tenants/" + this.id).toString()));
		assertThat(this.browser.findElement(By.id("message")).getText()).contains("Created tenant " + this.id);
		assertThat(this.browser.findElement(By.id("limit-requestsPerMinute")).getText()).isEqualTo("50");
		this.browser.get(uri("/quota/tenants").toString());
		assertThat(this.browser.findElement(By.id("tenants")).getText()).contains(this.id).contains("UI tenant");

		this.browser.get(uri("/quota/tenants/" + this.id).toString());
		assertThat(this.browser.findElement(By.id("tenant-id")).getAttribute("readonly")).isNotNull();
		WebElement limit = this.browser.findElement(By.id("requestsPerMinute"));
		limit.clear();
		limit.sendKeys("70");
		this.browser.findElement(By.id("save-button")).click();
		waiting.until(ExpectedConditions.presenceOfElementLocated(By.id("message")));
		assertThat(this.browser.findElement(By.id("message")).getText()).contains("Saved tenant " + this.id);
		assertThat(this.browser.findElement(By.id("limit-requestsPerMinute")).getText()).isEqualTo("70");
		assertThat(this.tenants.find(this.id).orElseThrow().limits().requestsPerMinute()).isEqualTo(70);

		this.browser.findElement(By.id("create-key-button")).click();
		waiting.until(ExpectedConditions.presenceOfElementLocated(By.id("new-key")));
		String key = this.browser.findElement(By.id("new-key-value")).getText();
		assertThat(key).startsWith("tg-");
		assertThat(this.browser.findElement(By.id("new-key")).getText()).contains("will not be shown again");
		assertThat(get("/v1/models", "Bearer " + key).statusCode()).isEqualTo(200);
		this.browser.navigate().refresh();
		assertThat(this.browser.findElements(By.id("new-key"))).as("a key is shown once").isEmpty();
		assertThat(this.browser.getPageSource()).doesNotContain(key);
		assertThat(this.browser.findElement(By.id("keys")).getText()).contains(key.substring(0, 7));

		this.browser.findElement(By.cssSelector("#keys button.revoke")).click();
		waiting.until(ExpectedConditions.textToBePresentInElementLocated(By.id("message"), "Revoked key"));
		assertThat(get("/v1/models", "Bearer " + key).statusCode()).isEqualTo(401);
		assertThat(this.browser.findElement(By.id("keys")).getText()).contains("No keys.");
		screenshot("tenant-manage.png", By.id("edit"));

		List<AuditEntry> audited = this.audit.entries("tenant", null, null, 1000)
			.stream()
			.filter((entry) -> entry.target().startsWith(this.id))
			.toList();
		assertThat(audited).extracting(AuditEntry::action)
			.containsExactly("revoke-key", "create-key", "update", "create");
		assertThat(audited).extracting(AuditEntry::actor).containsOnly("admin");

		this.browser.findElement(By.id("delete-button")).click();
		assertThat(this.browser.getCurrentUrl()).as("the required box stops an unconfirmed delete")
			.isEqualTo(uri("/quota/tenants/" + this.id).toString());
		assertThat(this.tenants.find(this.id)).isPresent();
		this.browser.findElement(By.id("confirm-delete")).click();
		this.browser.findElement(By.id("delete-button")).click();
		waiting.until(ExpectedConditions.urlToBe(uri("/quota/tenants").toString()));
		assertThat(this.browser.findElement(By.id("message")).getText()).contains("Deleted tenant " + this.id);
		assertThat(this.tenants.find(this.id)).isEmpty();
	}

	@Test
	void aRefusedLimitIsShownOnTheFormAndCreatesNothing() throws Exception {
		WebDriverWait waiting = signIn("admin", "admin");
		this.browser.get(uri("/quota/tenants").toString());
		fillTenantForm(this.id, "Bad limits", "-5");
		this.browser.findElement(By.id("create-button")).click();
		waiting.until(ExpectedConditions.presenceOfElementLocated(By.id("form-error")));
		WebElement error = this.browser.findElement(By.id("form-error"));
		assertThat(error.getText())
			.startsWith("requestsPerMinute: must be between 1 and " + Limits.MAX_REQUESTS_PER_MINUTE);
		assertThat(error.getAttribute("data-field")).isEqualTo("requestsPerMinute");
		assertThat(this.browser.findElement(By.id("requestsPerMinute")).getAttribute("value")).isEqualTo("-5");
		assertThat(this.browser.findElement(By.id("requestsPerMinute")).getAttribute("class")).contains("invalid");
		assertThat(this.browser.findElement(By.id("tenant-id")).getAttribute("value")).isEqualTo(this.id);
		assertThat(this.browser.findElement(By.id("displayName")).getAttribute("value")).isEqualTo("Bad limits");
		assertThat(this.tenants.find(this.id)).isEmpty();
		assertThat(this.browser.findElement(By.id("form-error-summary")).getText())
			.contains("requestsPerMinute: must be between");
		screenshot("tenant-refused.png", By.id("new-tenant"));

		this.browser.findElement(By.id("tier-P0")).click();
		this.browser.findElement(By.id("tier-P1")).click();
		this.browser.findElement(By.id("tier-P2")).click();
		this.browser.findElement(By.id("requestsPerMinute")).clear();
		WebElement previous = this.browser.findElement(By.id("form-error"));
		this.browser.findElement(By.id("create-button")).click();
		// Wait for the new page first: reading the old page's message while it unloads
		// fails in Chromium.
		waiting.until(ExpectedConditions.stalenessOf(previous));
		waiting.until(ExpectedConditions.textToBePresentInElementLocated(By.id("form-error"), "allowedTiers: "));
		assertThat(this.tenants.find(this.id)).isEmpty();
	}

	@Test
	void aDuplicateIdIsShownOnTheForm() throws Exception {
		TenantsApiIntegrationTests.on(this.port).createTenant(this.id, "{}");
		WebDriverWait waiting = signIn("admin", "admin");
		this.browser.get(uri("/quota/tenants").toString());
		fillTenantForm(this.id, "Second", "");
		this.browser.findElement(By.id("create-button")).click();
		waiting.until(ExpectedConditions.presenceOfElementLocated(By.id("form-error")));
		assertThat(this.browser.findElement(By.id("form-error")).getText()).startsWith("id: ")
			.contains("already exists");
		assertThat(this.tenants.find(this.id).orElseThrow().displayName()).isEqualTo("Integration");
	}

	@Test
	void aViewerSeesNoFormsAndAForgedChangeIsForbidden() throws Exception {
		TenantsApiIntegrationTests.on(this.port).createTenant(this.id, "{}");
		signIn("viewer", "viewer");
		this.browser.get(uri("/quota/tenants").toString());
		assertThat(this.browser.findElement(By.id("tenants")).getText()).contains(this.id);
		assertThat(this.browser.findElements(By.cssSelector("main form"))).isEmpty();
		this.browser.get(uri("/quota/tenants/" + this.id).toString());
		assertThat(this.browser.findElement(By.id("settings")).getText()).contains(this.id);
		assertThat(this.browser.findElement(By.id("keys")).getText()).contains("tg-");
		assertThat(this.browser.findElements(By.cssSelector("main form"))).isEmpty();

		DashboardSession viewer = DashboardSession.signIn(uri("/"), "viewer", "viewer");
		String created = "id=" + this.id + "-forged&allowedTiers=P1&weight=1";
		assertForbidden(viewer.post("/quota/tenants", created));
		assertForbidden(viewer.post("/quota/tenants/" + this.id, "id=" + this.id + "&allowedTiers=P2"));
		assertForbidden(viewer.post("/quota/tenants/" + this.id + "/keys", ""));
		assertForbidden(viewer.post("/quota/tenants/" + this.id + "/delete", "confirm=true"));
		assertThat(this.tenants.find(this.id + "-forged")).isEmpty();
		assertThat(this.tenants.find(this.id).orElseThrow().allowedTiers()).hasSize(3);
		assertThat(this.tenants.keys(this.id)).hasSize(1);

		// The same requests with an operator's session succeed, so the token and the form
		// were valid.
		DashboardSession operator = DashboardSession.signIn(uri("/"), "admin", "admin");
		assertThat(operator.post("/quota/tenants/" + this.id + "/delete", "confirm=true").statusCode()).isEqualTo(302);
		assertThat(this.tenants.find(this.id)).isEmpty();
	}

	private void screenshot(String name, By scrollTo) throws Exception {
		((JavascriptExecutor) this.browser).executeScript("arguments[0].scrollIntoView()",
				this.browser.findElement(scrollTo));
		screenshot(name);
	}

	private void screenshot(String name) throws Exception {
		Path screenshot = Path.of("target", "screenshots", name);
		Files.createDirectories(screenshot.getParent());
		Files.write(screenshot, ((TakesScreenshot) this.browser).getScreenshotAs(OutputType.BYTES));
	}

	private WebDriverWait signIn(String username, String password) {
		WebDriverWait waiting = new WebDriverWait(this.browser, Duration.ofSeconds(15));
		this.browser.get(uri("/login").toString());
		this.browser.findElement(By.id("username")).sendKeys(username);
		this.browser.findElement(By.id("password")).sendKeys(password);
		this.browser.findElement(By.id("sign-in")).click();
		waiting.until(ExpectedConditions.urlMatches(".*/$"));
		return waiting;
	}

	private void fillTenantForm(String tenantId, String displayName, String requestsPerMinute) {
		this.browser.findElement(By.id("tenant-id")).sendKeys(tenantId);
		this.browser.findElement(By.id("displayName")).sendKeys(displayName);
		this.browser.findElement(By.id("requestsPerMinute")).sendKeys(requestsPerMinute);
	}

	private static void assertForbidden(HttpResponse<String> response) {
		assertThat(response.statusCode()).as(response.body()).isEqualTo(403);
		assertThat(response.body()).contains("Your role does not allow this operation.");
	}

}
