package dev.tiergate.deploy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Tests of the chart with the real helm CLI (v4), beside helm-java's embedded helm 3 in
 * {@link HelmChartTests}: {@code helm lint --strict} and {@code helm template} with the
 * defaults and every {@code ci/*.yaml}. The binary is {@code $TIERGATE_HELM} or
 * {@code helm} on the PATH; {@code .ci/run} fetches helm v4 (see FACTS.md) when neither
 * is there. Skipped without one.
 */
class HelmCliTests {

	private static final Path CHART = Path.of("charts/tiergate");

	private static Path helm;

	@BeforeAll
	static void findHelm() throws Exception {
		String configured = System.getenv("TIERGATE_HELM");
		if (configured != null && Files.isExecutable(Path.of(configured))) {
			helm = Path.of(configured);
		}
		else {
			for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
				if (Files.isExecutable(Path.of(dir, "helm"))) {
					helm = Path.of(dir, "helm");
					break;
				}
			}
		}
		assumeTrue(helm != null, "no helm CLI ($TIERGATE_HELM or helm on the PATH)");
		assumeTrue(run("version", "--short").output().startsWith("v4."), "helm on the PATH is not v4");
	}

	static List<Path> ciValueFiles() throws IOException {
		return HelmChartTests.ciValueFiles();
	}

	@Test
	void refusesToRenderWithoutTheWatchedNamespaces() throws Exception {
		Result result = run("template", "tg", CHART.toString(), "--kube-version", "1.33.0");
		assertThat(result.exitCode()).as(result.output()).isNotZero();
		assertThat(result.output()).contains("cluster.namespaces is required");
	}

	@Test
	void lintsStrictlyWithDefaultsAndTheRequiredNamespaces() throws Exception {
		Result result = run("lint", "--strict", CHART.toString(), "--set", "cluster.namespaces[0]=ml");
		assertThat(result.exitCode()).as(result.output()).isZero();
		assertThat(result.output()).doesNotContain("[WARNING]").doesNotContain("[ERROR]");
	}

	@ParameterizedTest
	@MethodSource("ciValueFiles")
	void lintsStrictlyAndRendersWithEveryCiValueFile(Path values) throws Exception {
		Result lint = run("lint", "--strict", CHART.toString(), "-f", values.toString());
		assertThat(lint.exitCode()).as(lint.output()).isZero();
		assertThat(lint.output()).doesNotContain("[WARNING]").doesNotContain("[ERROR]");
		Result template = run("template", "tg", CHART.toString(), "-f", values.toString(), "--kube-version", "1.33.0");
		assertThat(template.exitCode()).as(template.output()).isZero();
		assertThat(template.output()).contains("kind: Deployment");
	}

	@Test
	void helmTestPodCallsProbesAndManagementHealth() throws Exception {
		// helm-java's template leaves test hooks out; the CLI renders them.
		Result result = run("template", "tg", CHART.toString(), "--set", "cluster.namespaces[0]=ml", "--show-only",
				"templates/tests/connection-test.yaml");
		assertThat(result.exitCode()).as(result.output()).isZero();
		assertThat(result.output()).contains("helm.sh/hook: test")
			.contains("http://tg-tiergate:8080/livez")
			.contains("http://tg-tiergate:8080/readyz")
			.contains("http://tg-tiergate-management:8081/actuator/health")
			.contains("allowPrivilegeEscalation: false");
	}

	@Test
	void refusesANegativeReplicaCount() throws Exception {
		Result result = run("template", "tg", CHART.toString(), "--set", "cluster.namespaces[0]=ml", "--set",
				"replicaCount=-1");
		assertThat(result.exitCode()).isNotZero();
		assertThat(result.output()).contains("replicaCount");
	}

	private static Result run(String... args) throws IOException, InterruptedException {
		List<String> command = new ArrayList<>();
		command.add(helm.toString());
		command.addAll(List.of(args));
		Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
		String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
		assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
		return new Result(process.exitValue(), output);
	}

	private record Result(int exitCode, String output) {
	}

}
