package dev.tiergate.cost;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

import dev.tiergate.FleetIntegrationTestSupport;
import dev.tiergate.HeadlessChromium;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests of the dashboard's Cost pages in a real headless Chromium.
 */
class CostDashboardBrowserTests extends FleetIntegrationTestSupport {

	private WebDriver browser;

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

	private WebDriverWait waiting(int seconds) {
		return new WebDriverWait(this.browser, Duration.ofSeconds(seconds));
	}

	private void logIn(String user) {
		this.browser.get(uri("/login").toString());
		this.browser.findElement(By.id("username")).sendKeys(user);
		this.browser.findElement(By.id("password")).sendKeys(user);
		this.browser.findElement(By.id("sign-in")).click();
		waiting(15).until(ExpectedConditions.presenceOfElementLocated(By.id("nav-cost")));
	}

	@Test
	void operatorSimulatesATraceAndSeesTheReportWithCharts() throws Exception {
		SharedTraces.require("azure-2023-code.csv");
		logIn("admin");
		this.browser.findElement(By.id("nav-cost")).click();
		new Select(this.browser.findElement(By.name("trace"))).selectByValue("azure-2023-code.csv");
		this.browser.findElement(By.name("gpus")).clear();
		this.browser.findElement(By.name("gpus")).sendKeys("4");
		this.browser.findElement(By.name("sweep")).click();
		this.browser.findElement(By.cssSelector("#simulate button")).click();

		waiting(15).until(ExpectedConditions.presenceOfElementLocated(By.id("progress")));
		waiting(60).until(ExpectedConditions.presenceOfElementLocated(By.id("sim-cdf")));
		assertThat(this.browser.findElement(By.id("status")).getText()).isEqualTo("DONE");
		assertThat(this.browser.findElement(By.id("report")).getText()).contains("azure-2023-code.csv")
			.contains("8,819 requests")
			.contains("break-even volume")
			.contains("tiered")
			.contains("fifo")
			.contains("static");
		assertThat(this.browser.findElements(By.cssSelector("#report canvas"))).hasSize(3);
		Path screenshot = Path.of("target", "screenshots", "cost-simulation.png");
		Files.createDirectories(screenshot.getParent());
		Files.write(screenshot, ((TakesScreenshot) this.browser).getScreenshotAs(OutputType.BYTES));
	}

	@Test
	void badPricesOnTheDashboardAreRefusedWithAMessage() {
		logIn("admin");
		this.browser.get(uri("/cost").toString());
		this.browser.findElement(By.name("gpuHourly")).clear();
		this.browser.findElement(By.name("gpuHourly")).sendKeys("-3");
		this.browser.findElement(By.cssSelector("#prices button")).click();

		waiting(15).until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("p.error")));
		assertThat(this.browser.findElement(By.cssSelector("p.error")).getText())
			.contains("gpuHourly.NVIDIA-A100-SXM4-80GB must be a number between 0 and 1e9");
	}

}
