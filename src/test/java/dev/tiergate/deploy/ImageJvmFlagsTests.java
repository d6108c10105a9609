package dev.tiergate.deploy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The image's JVM options: the same in the Dockerfile and in the Jib image of
 * {@code pom.xml}, and accepted by the JDK that runs the tests (a misspelt {@code -XX}
 * option stops the JVM from starting, which a container would only show at deploy time).
 */
class ImageJvmFlagsTests {

	private static final Pattern ENTRYPOINT = Pattern.compile("(?m)^ENTRYPOINT (\\[.*])$");

	private static final Pattern JVM_FLAG = Pattern.compile("<jvmFlag>([^<]+)</jvmFlag>");

	private static final Pattern ENV = Pattern.compile("(?m)^ENV ([A-Z_][A-Z0-9_]*)=(\\S+)$");

	private static final Pattern JIB_ENVIRONMENT = Pattern.compile("(?s)<environment>(.*?)</environment>");

	private static final Pattern XML_ENTRY = Pattern.compile("<([A-Za-z_][\\w.-]*)>([^<]*)</\\1>");

	@Test
	void dockerfileAndJibStartTheJvmWithTheSameOptions() throws IOException {
		assertThat(dockerfileJvmOptions()).isNotEmpty().isEqualTo(jibJvmFlags());
	}

	@Test
	void dockerfileAndJibSetTheSameEnvironment() throws IOException {
		assertThat(dockerfileEnvironment()).isNotEmpty().isEqualTo(jibEnvironment());
	}

	@Test
	void theHeapFollowsTheContainerAndG1IsNamedWithAStaticThreshold() throws IOException {
		assertThat(dockerfileJvmOptions()).contains("-XX:MaxRAMPercentage=70", "-XX:+UseG1GC",
				"-XX:-G1UseAdaptiveIHOP");
	}

	@Test
	void nativeMemoryIsKeptInTwoArenasAndTrimmed() throws IOException {
		assertThat(dockerfileEnvironment()).containsEntry("MALLOC_ARENA_MAX", "2");
		assertThat(dockerfileJvmOptions()).contains("-XX:TrimNativeHeapInterval=5000");
	}

	/**
	 * Every benchmark script that starts Tiergate starts it with the image's {@code -XX}
	 * options but the heap's (the heap is the script's own), its environment, and on the
	 * image's class path ({@code $tg_cp} of {@code bench/classpath.sh}: no test
	 * libraries), so that what it measures is what a replica runs: a launch line that
	 * names {@code TestTiergateApplication} on it or on the next line.
	 */
	@Test
	void theBenchmarksStartTiergateAsTheImageDoes() throws IOException {
		List<String> collector = dockerfileJvmOptions().stream()
			.filter((option) -> option.startsWith("-XX:") && !option.startsWith("-XX:MaxRAMPercentage="))
			.toList();
		assertThat(collector).isNotEmpty();
		List<String> environment = dockerfileEnvironment().entrySet()
			.stream()
			.map((entry) -> entry.getKey() + "=" + entry.getValue() + " ")
			.toList();
		List<String> launches = new ArrayList<>();
		try (var scripts = Files.list(Path.of("bench"))) {
			for (Path script : scripts.filter((path) -> path.toString().endsWith(".sh")).sorted().toList()) {
				List<String> lines = Files.readAllLines(script);
				for (int i = 0; i < lines.size(); i++) {
					String line = lines.get(i);
					String next = (i + 1 < lines.size()) ? lines.get(i + 1) : "";
					boolean launch = line.contains("\"$java\"") && !line.trim().startsWith("#")
							&& (line.contains("TestTiergateApplication") || next.contains("TestTiergateApplication"));
					if (launch) {
						launches.add(script.getFileName() + ":" + (i + 1));
						assertThat(line).as("%s line %d", script, i + 1)
							.contains(collector)
							.contains(environment)
							.contains("-cp \"$tg_cp\"");
					}
				}
			}
		}
		assertThat(launches).as("Tiergate's launches in bench/").hasSizeGreaterThanOrEqualTo(4);
	}

	@Test
	void theRunningJdkAcceptsTheOptionsAndAppliesThem() throws Exception {
		List<String> command = new ArrayList<>();
		command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
		command.addAll(dockerfileJvmOptions());
		command.add("-XX:+PrintFlagsFinal");
		command.add("-version");
		Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
		String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
		assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
		assertThat(process.exitValue()).as(output).isZero();
		assertThat(output).containsPattern("bool UseG1GC\\s+= true\\s+\\{product} \\{command line}")
			.containsPattern("bool G1UseAdaptiveIHOP\\s+= false\\s+\\{product} \\{command line}")
			.containsPattern("double MaxRAMPercentage\\s+= 70\\.0+\\s+\\{product} \\{command line}")
			.containsPattern("uint TrimNativeHeapInterval\\s+= 5000\\s+\\{product} \\{command line}")
			.containsPattern("uint InitiatingHeapOccupancyPercent\\s+= 45\\s");
	}

	/**
	 * The ENTRYPOINT's arguments between {@code java} and the main class.
	 */
	private static List<String> dockerfileJvmOptions() throws IOException {
		Matcher matcher = ENTRYPOINT.matcher(Files.readString(Path.of("Dockerfile")));
		assertThat(matcher.find()).as("an exec-form ENTRYPOINT in the Dockerfile").isTrue();
		String[] entrypoint = JsonMapper.builder().build().readValue(matcher.group(1), String[].class);
		assertThat(entrypoint[0]).isEqualTo("java");
		assertThat(entrypoint[entrypoint.length - 1]).isEqualTo("org.springframework.boot.loader.launch.JarLauncher");
		return List.of(entrypoint).subList(1, entrypoint.length - 1);
	}

	/**
	 * The Dockerfile's {@code ENV name=value} lines, in order.
	 */
	private static Map<String, String> dockerfileEnvironment() throws IOException {
		Map<String, String> environment = new LinkedHashMap<>();
		Matcher matcher = ENV.matcher(Files.readString(Path.of("Dockerfile")));
		while (matcher.find()) {
			environment.put(matcher.group(1), matcher.group(2));
		}
		return environment;
	}

	/**
	 * The children of the Jib container's {@code <environment>}, in order.
	 */
	private static Map<String, String> jibEnvironment() throws IOException {
		Map<String, String> environment = new LinkedHashMap<>();
		Matcher block = JIB_ENVIRONMENT.matcher(Files.readString(Path.of("pom.xml")));
		if (block.find()) {
			Matcher entry = XML_ENTRY.matcher(block.group(1));
			while (entry.find()) {
				environment.put(entry.group(1), entry.group(2).strip());
			}
		}
		return environment;
	}

	private static List<String> jibJvmFlags() throws IOException {
		Matcher matcher = JVM_FLAG.matcher(Files.readString(Path.of("pom.xml")));
		List<String> flags = new ArrayList<>();
		while (matcher.find()) {
			flags.add(matcher.group(1).strip());
		}
		return flags;
	}

}
