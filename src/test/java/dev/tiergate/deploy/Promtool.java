package dev.tiergate.deploy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Runs Prometheus's {@code promtool} (Debian's {@code prometheus} package, which
 * {@code .ci/run} installs). Without it, a test is skipped on a developer's machine but
 * fails in CI ({@code CI=true}), so a CI machine that lost it cannot pass silently.
 */
final class Promtool {

	private Promtool() {
	}

	/**
	 * The promtool executable, or skips (fails when {@code CI=true}) without one.
	 * @return its path
	 */
	static Path require() {
		String path = System.getenv().getOrDefault("PATH", "");
		for (String dir : path.split(java.io.File.pathSeparator)) {
			Path candidate = Path.of(dir, "promtool");
			if (Files.isExecutable(candidate)) {
				return candidate;
			}
		}
		if ("true".equalsIgnoreCase(System.getenv("CI"))) {
			fail("promtool is not on the PATH; .ci/run installs Debian's prometheus package for it");
		}
		assumeTrue(false, "promtool is not on the PATH (apt-get install --no-install-recommends prometheus)");
		return null;
	}

	/**
	 * Runs promtool.
	 * @param stdin what to feed it, or {@code null}
	 * @param args its arguments
	 * @return its exit code and output
	 */
	static Result run(String stdin, String... args) throws IOException, InterruptedException {
		List<String> command = new ArrayList<>();
		command.add(require().toString());
		command.addAll(List.of(args));
		Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
		if (stdin != null) {
			process.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
		}
		process.getOutputStream().close();
		String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
		if (!process.waitFor(60, TimeUnit.SECONDS)) {
			process.destroyForcibly();
			fail("promtool " + String.join(" ", args) + " did not finish in 60 s");
		}
		return new Result(process.exitValue(), output);
	}

	/**
	 * What promtool said.
	 *
	 * @param exitCode 0 clean, 1 error, 3 lint findings
	 * @param output stdout and stderr
	 */
	record Result(int exitCode, String output) {
	}

}
