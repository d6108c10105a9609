package dev.tiergate.cost;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link SimulateCommand}, the {@code simulate} command line.
 */
class SimulateCommandTests {

	@TempDir
	Path dir;

	private final ByteArrayOutputStream out = new ByteArrayOutputStream();

	private final ByteArrayOutputStream err = new ByteArrayOutputStream();

	private int run(String... args) {
		return SimulateCommand.run(args, new PrintStream(this.out, true, StandardCharsets.UTF_8),
				new PrintStream(this.err, true, StandardCharsets.UTF_8));
	}

	private Path trace() throws Exception {
		return Files.writeString(this.dir.resolve("t.csv"), """
				TIMESTAMP,ContextTokens,GeneratedTokens
				2023-11-16 18:15:46.6805900,374,44
				2023-11-16 18:15:47.0000000,120,12
				2023-11-16 18:15:49.0000000,900,80
				""");
	}

	@Test
	void writesAJsonReportAndASummary() throws Exception {
		Path report = this.dir.resolve("report.json");

		int code = run("--trace", trace().toString(), "--out", report.toString(), "--no-sweep", "--tier-shares",
				"P0=1,P1=0,P2=0");

		assertThat(code).as(this.err.toString()).isZero();
		JsonNode json = SimulationFiles.JSON.readTree(report.toFile());
		assertThat(json.get("requests").asInt()).isEqualTo(3);
		assertThat(json.at("/tiered/tiers/P0/completed").asInt()).isEqualTo(3);
		assertThat(json.at("/cost/selfHostedMonthly").asDouble()).isEqualTo(16_001.60);
		assertThat(this.out.toString()).contains("t.csv: 3 requests", "tiered", "fifo", "static", "break-even");
	}

	@Test
	void writesOneSelfContainedHtmlFile() throws Exception {
		Path fleet = Files.writeString(this.dir.resolve("fleet.json"), """
				{"gpu":"NVIDIA-A100-SXM4-80GB","gpus":2,"sharing":"MPS","replicas":2,
				 "models":[{"model":"llama-3.1-8b-instruct","sliceShare":1,"slots":4}]}
				""");
		Path report = this.dir.resolve("report.html");

		int code = run("--trace", trace().toString(), "--fleet", fleet.toString(), "--out", report.toString(),
				"--no-sweep");

		assertThat(code).as(this.err.toString()).isZero();
		String html = Files.readString(report);
		assertThat(html).startsWith("<!DOCTYPE html>")
			.contains("new Chart", "TiergateSimulationReport", "\"gpus\":2", "CC-BY-4.0")
			.doesNotContain("<script src", "<link");
	}

	@Test
	void badArgumentsExitWith2AndSayWhatIsWrong() throws Exception {
		assertThat(run("--out", "r.json")).isEqualTo(2);
		assertThat(this.err.toString()).contains("--trace is required").contains("usage:");
		this.err.reset();
		assertThat(run("--trace", trace().toString(), "--out", "r.pdf")).isEqualTo(2);
		assertThat(this.err.toString()).contains("--out must end in .html or .json");
		this.err.reset();
		assertThat(run("--trace", this.dir.resolve("missing.csv").toString(), "--out", "r.json")).isEqualTo(2);
		assertThat(this.err.toString()).contains("--trace: no such file");
		this.err.reset();
		assertThat(run("--trace", trace().toString(), "--out", "r.json", "--speed", "fast")).isEqualTo(2);
		assertThat(this.err.toString()).contains("--speed needs a number, was 'fast'");
		this.err.reset();
		assertThat(run("--trace", trace().toString(), "--out", "r.json", "--colour", "red")).isEqualTo(2);
		assertThat(this.err.toString()).contains("unknown option --colour");
	}

	@Test
	void badFilesExitWith2NamingTheLineOrField() throws Exception {
		Path badTrace = Files.writeString(this.dir.resolve("bad.csv"),
				"TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.68,12,4\n2023-11-16 18:15:47.00,x,4\n");
		assertThat(run("--trace", badTrace.toString(), "--out", this.dir.resolve("r.json").toString())).isEqualTo(2);
		assertThat(this.err.toString()).contains("bad.csv line 3: ContextTokens must be an integer");
		this.err.reset();

		Path badFleet = Files.writeString(this.dir.resolve("fleet.json"), """
				{"gpu":"NVIDIA-A100-SXM4-80GB","gpus":8,"sharing":"MPS","replicas":99,
				 "models":[{"model":"llama-3.1-8b-instruct","sliceShare":1,"slots":8}]}
				""");
		assertThat(run("--trace", trace().toString(), "--fleet", badFleet.toString(), "--out",
				this.dir.resolve("r.json").toString()))
			.isEqualTo(2);
		assertThat(this.err.toString()).contains("replicas must be at most 48");
		this.err.reset();

		Path badTiers = Files.writeString(this.dir.resolve("tiers.json"),
				"{\"P0\":{\"reservedShare\":0.8}," + "\"P1\":{\"reservedShare\":0.5}}");
		assertThat(run("--trace", trace().toString(), "--tiers", badTiers.toString(), "--out",
				this.dir.resolve("r.json").toString()))
			.isEqualTo(2);
		assertThat(this.err.toString()).contains("reserved shares sum to");
	}

}
