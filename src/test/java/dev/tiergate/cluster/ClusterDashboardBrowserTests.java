package dev.tiergate.cluster;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

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

import dev.tiergate.HeadlessChromium;
import io.kubernetes.client.openapi.apis.AppsV1Api;
import io.kubernetes.client.openapi.apis.CoreV1Api;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests of the cluster pages in a real headless Chromium: preview and apply a sharing
 * profile, sync PriorityClasses, see the audit log and the overview's slice picture.
 */
class ClusterDashboardBrowserTests extends ClusterIntegrationTestSupport {

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

	private WebDriverWait waiting() {
		return new WebDriverWait(this.browser, Duration.ofSeconds(15));
	}

	private void signIn(String user) {
		this.browser.get(uri("/login").toString());
		this.browser.findElement(By.id("username")).sendKeys(user);
		this.browser.findElement(By.id("password")).sendKeys(user);
		this.browser.findElement(By.id("sign-in")).click();
		waiting().until(ExpectedConditions.not(ExpectedConditions.urlContains("/login")));
	}

	private void screenshot(String name) throws Exception {
		Path file = Path.of("target", "screenshots", name + ".png");
		Files.createDirectories(file.getParent());
		Files.write(file, ((TakesScreenshot) this.browser).getScreenshotAs(OutputType.BYTES));
	}

	@Test
	void adminPreviewsThenAppliesAProfileFromTheDashboard() throws Exception {
		signIn("admin");
		this.browser.get(uri("/cluster/sharing").toString());
		this.browser.findElement(By.id("profile-name")).sendKeys("browser-ts-2");
		new Select(this.browser.findElement(By.id("strategy"))).selectByValue("time-slicing");
		this.browser.findElement(By.id("replicas")).clear();
		this.browser.findElement(By.id("replicas")).sendKeys("2");
		this.browser.findElement(By.id("node-plain-1")).click();
		this.browser.findElement(By.id("preview-button")).click();

		waiting().until(ExpectedConditions.presenceOfElementLocated(By.id("preview")));
		assertThat(this.browser.findElement(By.id("preview-diff")).getText()).contains("+  timeSlicing:")
			.contains("+    - name: nvidia.com/gpu")
			.contains("+      replicas: 2");
		assertThat(this.browser.findElement(By.cssSelector("#preview-nodes tr[data-node='plain-1']")).getText())
			.contains("none x1 = 2 slices")
			.contains("time-slicing x2 = 4 nvidia.com/gpu");
		assertThat(this.browser.findElement(By.id("preview-restart")).getText()).contains("will be restarted");
		CoreV1Api core = new CoreV1Api(kubernetes());
		assertThat(core.readNode("plain-1").execute().getMetadata().getLabels())
			.doesNotContainKey("nvidia.com/device-plugin.config");
		screenshot("sharing-preview");

		this.browser.findElement(By.id("apply-button")).click();

		waiting().until(ExpectedConditions.presenceOfElementLocated(By.id("message")));
		assertThat(this.browser.findElement(By.id("message")).getText()).contains("Applied browser-ts-2")
			.contains("[plain-1]")
			.contains("restarted at");
		assertThat(core.readNode("plain-1").execute().getMetadata().getLabels())
			.containsEntry("nvidia.com/device-plugin.config", "browser-ts-2");
		Map<String, String> data = core.readNamespacedConfigMap("device-plugin-config", "gpu-operator")
			.execute()
			.getData();
		assertThat(data.get("browser-ts-2")).contains("timeSlicing:").contains("replicas: 2");
		assertThat(new AppsV1Api(kubernetes()).readNamespacedDaemonSet("nvidia-device-plugin-daemonset", "gpu-operator")
			.execute()
			.getSpec()
			.getTemplate()
			.getMetadata()
			.getAnnotations()).containsKey("tiergate.dev/restartedAt");
		assertThat(this.browser.findElement(By.cssSelector("#profiles tr[data-profile='browser-ts-2']")).getText())
			.contains("plain-1");
		assertThat(this.browser.findElement(By.cssSelector("#sharing-nodes tr[data-node='plain-1']")).getText())
			.contains("drift");
		screenshot("sharing-applied");

		this.browser.get(uri("/audit?kind=node-label").toString());
		assertThat(this.browser.findElement(By.id("audit")).getText()).contains("plain-1").contains("admin");
	}

	@Test
	void viewerSeesThePagesWithoutChangeForms() {
		signIn("viewer");
		this.browser.get(uri("/cluster/sharing").toString());
		assertThat(this.browser.findElements(By.id("rollout-form"))).isEmpty();
		this.browser.get(uri("/cluster/priority-classes").toString());
		assertThat(this.browser.findElements(By.id("sync-form"))).isEmpty();
		assertThat(this.browser.findElement(By.id("priority-classes")).getText()).contains("team-high");
	}

	@Test
	void adminSyncsPriorityClassesAndTheOverviewDrawsTheSlices() throws Exception {
		signIn("admin");
		this.browser.get(uri("/cluster/priority-classes").toString());
		this.browser.findElement(By.id("sync-button")).click();
		waiting().until(ExpectedConditions.presenceOfElementLocated(By.id("message")));
		assertThat(this.browser.findElement(By.cssSelector("#priority-classes tr[data-class='realtime-inference']"))
			.getText()).contains("1000000").contains("P0").contains("tiergate");

		this.browser.get(uri("/").toString());
		waiting().until(ExpectedConditions.presenceOfElementLocated(By.id("slice-picture")));
		assertThat(this.browser.findElements(By.cssSelector("#slice-picture .picture-node"))).hasSize(3);
		assertThat(this.browser.findElements(By.cssSelector("#slice-picture .picture-gpu .slice"))).hasSize(18);
		assertThat(this.browser.findElements(By.cssSelector("#slice-picture .slice.tier-p0"))).hasSize(1);
		assertThat(this.browser.findElements(By.cssSelector("#slice-picture .slice.tier-p2"))).hasSize(2);
		assertThat(this.browser.findElements(By.cssSelector("#slice-picture .slice.free"))).hasSize(13);
		screenshot("overview-slices");
	}

}
