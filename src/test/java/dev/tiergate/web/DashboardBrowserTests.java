package dev.tiergate.web;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import dev.tiergate.HeadlessChromium;
import dev.tiergate.FleetIntegrationTestSupport;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests of the dashboard in a real headless Chromium (Debian's {@code chromium} and
 * {@code chromium-driver}, given explicitly so nothing is downloaded).
 */
class DashboardBrowserTests extends FleetIntegrationTestSupport {

	private WebDriver browser;

	@org.springframework.beans.factory.annotation.Autowired
	private dev.tiergate.proxy.OpenRequests openRequests;

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

	private WebDriverWait waiting() {
		return new WebDriverWait(this.browser, Duration.ofSeconds(15));
	}

	@Test
	void operatorLogsInAndSeesTheFleet() throws Exception {
		this.browser.get(uri("/").toString());
		waiting().until(ExpectedConditions.urlContains("/login"));
		this.browser.findElement(By.id("username")).sendKeys("admin");
		this.browser.findElement(By.id("password")).sendKeys("admin");
		this.browser.findElement(By.id("sign-in")).click();
		waiting().until(ExpectedConditions.presenceOfElementLocated(By.id("nodes")));
		waiting().until((d) -> d.findElements(By.cssSelector("#endpoints tbody tr")).size() == 24);
		assertThat(this.browser.findElement(By.id("total-nodes")).getText()).isEqualTo("2");
		assertThat(this.browser.findElement(By.id("total-gpus")).getText()).isEqualTo("8");
		assertThat(this.browser.findElement(By.id("total-slices")).getText()).isEqualTo("32");
		// This replica's open front-door requests against its limit
		// (tiergate.proxy.max-open-requests).
		assertThat(this.browser.findElement(By.id("open-requests")).getText()).matches("\\d+ / \\d+")
			.endsWith(" / " + this.openRequests.limit());
		assertThat(this.browser.findElement(By.id("nodes")).getText()).contains("gpu-node-1")
			.contains("NVIDIA-A100-SXM4-80GB")
			.contains("mps");
		assertThat(this.browser.findElement(By.id("pools")).getText()).contains("llama-3.1-8b-instruct")
			.contains("qwen2.5-32b-instruct");
		Path screenshot = Path.of("target", "screenshots", "overview.png");
		Files.createDirectories(screenshot.getParent());
		Files.write(screenshot, ((org.openqa.selenium.TakesScreenshot) this.browser).getScreenshotAs(OutputType.BYTES));
	}

	@Test
	void queuesPageShowsEveryPoolsSlotsAndChartsWaits() throws Exception {
		post("/v1/chat/completions", dev.tiergate.EmbeddedDefaults.ACME_KEY,
				chat(dev.tiergate.fleet.SimulatedGpuFleet.LLAMA, 2), "X-Tiergate-Priority", "P0");
		this.browser.get(uri("/login").toString());
		this.browser.findElement(By.id("username")).sendKeys("viewer");
		this.browser.findElement(By.id("password")).sendKeys("viewer");
		this.browser.findElement(By.id("sign-in")).click();
		waiting().until(ExpectedConditions.presenceOfElementLocated(By.id("nodes")));
		this.browser.findElement(By.linkText("Queues")).click();
		waiting().until(ExpectedConditions
			.presenceOfElementLocated(By.cssSelector("section.pool[data-pool='llama-3.1-8b-instruct'] svg.slotbar")));
		assertThat(this.browser.findElements(By.cssSelector("section.pool"))).hasSizeGreaterThanOrEqualTo(2);
		assertThat(this.browser
			.findElements(By.cssSelector("section.pool[data-pool='llama-3.1-8b-instruct'] tr[data-tier]"))).hasSize(3);
		waiting().until((d) -> "true".equals(d.findElement(By.id("waits")).getAttribute("data-loaded")));
		Path screenshot = Path.of("target", "screenshots", "queues.png");
		Files.createDirectories(screenshot.getParent());
		Files.write(screenshot, ((org.openqa.selenium.TakesScreenshot) this.browser).getScreenshotAs(OutputType.BYTES));
	}

	@Test
	void endpointsPageListsEveryPodWithItsHealth() throws Exception {
		this.browser.get(uri("/login").toString());
		this.browser.findElement(By.id("username")).sendKeys("viewer");
		this.browser.findElement(By.id("password")).sendKeys("viewer");
		this.browser.findElement(By.id("sign-in")).click();
		waiting().until(ExpectedConditions.presenceOfElementLocated(By.id("nodes")));
		this.browser.findElement(By.id("nav-endpoints")).click();
		waiting().until((d) -> d.findElements(By.cssSelector("#endpoints tr[data-endpoint]")).size() == 24);
		assertThat(this.browser.findElements(By.cssSelector("#endpoints section.pool[data-model]"))).hasSize(2);
		assertThat(this.browser.findElement(By.cssSelector("#endpoints tr[data-endpoint='inference/llama-00']"))
			.getAttribute("data-state")).isNotBlank();
		Path screenshot = Path.of("target", "screenshots", "endpoints.png");
		Files.createDirectories(screenshot.getParent());
		Files.write(screenshot, ((org.openqa.selenium.TakesScreenshot) this.browser).getScreenshotAs(OutputType.BYTES));
	}

	@Test
	void wrongPasswordStaysOnTheLoginPage() {
		this.browser.get(uri("/login").toString());
		this.browser.findElement(By.id("username")).sendKeys("admin");
		this.browser.findElement(By.id("password")).sendKeys("not-the-password");
		this.browser.findElement(By.id("sign-in")).click();
		waiting().until(ExpectedConditions.presenceOfElementLocated(By.id("login-error")));
		assertThat(this.browser.getCurrentUrl()).contains("/login?error");
	}

}
