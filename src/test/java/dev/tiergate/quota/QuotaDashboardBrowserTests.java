package dev.tiergate.quota;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import dev.tiergate.HeadlessChromium;
import dev.tiergate.FleetIntegrationTestSupport;
import dev.tiergate.fleet.SimulatedGpuFleet;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests of the tenants pages in a real headless Chromium: the listing, and a tenant's usage with its Chart.js chart
 * (drawn under the page's strict CSP) and CSV export.
 */
class QuotaDashboardBrowserTests extends FleetIntegrationTestSupport {

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
		Path screenshot = Path.of("target", "screenshots", "tenant-usage.png");
		Files.createDirectories(screenshot.getParent());
		Files.write(screenshot, ((TakesScreenshot) this.browser).getScreenshotAs(OutputType.BYTES));
	}

}
