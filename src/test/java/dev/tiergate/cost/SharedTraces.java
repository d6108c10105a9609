package dev.tiergate.cost;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The real traces in {@code ../shared/traces/} beside the project (as on CI); tests that
 * need them are skipped where the folder is absent.
 */
final class SharedTraces {

	static final Path DIRECTORY = Path.of("..", "shared", "traces");

	private SharedTraces() {
	}

	static Path require(String name) {
		Path file = DIRECTORY.resolve(name);
		assumeTrue(Files.isRegularFile(file), () -> file.toAbsolutePath() + " is absent: skipped");
		return file;
	}

}
