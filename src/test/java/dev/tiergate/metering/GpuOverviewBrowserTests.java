package dev.tiergate.metering;

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
import org.openqa.selenium.support.ui.WebDriverWait;

import dev.tiergate.FleetIntegrationTestSupport;
import dev.tiergate.HeadlessChromium;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests of the overview's GPU part in a real headless Chromium, on the embedded fleet
 * with its simulated DCGM exporters: measured utilization beside slot occupancy per node
 * and GPU, the unattributed remainder, and the last hour's chart with the note naming its
 * source.
 */
class GpuOverviewBrowserTests extends FleetIntegrationTestSupport {

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

	@Test
	void theOverviewShowsEachGpusMeasuredUtilizationBesideItsSlotsAndDrawsTheLastHour() throws Exception {
		WebDriverWait waiting = new WebDriverWait(this.browser, Duration.ofSeconds(30));
		this.browser.get(uri("/login").toString());
		this.browser.findElement(By.id("username")).sendKeys("viewer");
		this.browser.findElement(By.id("password")).sendKeys("viewer");
		this.browser.findElement(By.id("sign-in")).click();
		waiting.until(ExpectedConditions.not(ExpectedConditions.urlContains("/login")));
		this.browser.get(uri("/").toString());

		waiting.until(ExpectedConditions
			.presenceOfElementLocated(By.cssSelector("#gpu-utilization tr[data-gpu='gpu-node-2/3']")));
		String row = this.browser.findElement(By.cssSelector("#gpu-utilization tr[data-gpu='gpu-node-1/0']")).getText();
		// GPU 0 of a node runs three MPS slices of 8 or 4 slots: utilization, slots,
		// memory.
		assertThat(row).matches("(?s).*\\d+%.*\\d+ / (24|20|16).*\\d+ MiB.*");
		assertThat(this.browser.findElement(By.cssSelector("#gpu-utilization tr[data-node='gpu-node-1'] .unattributed"))
			.getText()).matches("-?\\d+\\.\\d \\(-?\\d+\\.\\d%\\)");
		// Chart.js drew a line per node for utilization and one for slot occupancy.
		waiting.until(ExpectedConditions.attributeToBe(By.id("gpu-history"), "data-series", "4"));
		// No Prometheus configured: the note under the chart says whose history it is.
		assertThat(this.browser.findElement(By.id("gpu-history")).getAttribute("data-history-source"))
			.isEqualTo("memory");
		assertThat(this.browser.findElement(By.id("gpu-history-note")).getText())
			.isEqualTo("Last hour as this replica saw it since its start.");
		Path file = Path.of("target", "screenshots", "overview-gpus.png");
		Files.createDirectories(file.getParent());
		Files.write(file, ((TakesScreenshot) this.browser).getScreenshotAs(OutputType.BYTES));
	}

}
