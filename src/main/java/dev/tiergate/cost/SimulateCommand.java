package dev.tiergate.cost;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import dev.tiergate.tier.InvalidTierException;
import dev.tiergate.tier.Tier;
import dev.tiergate.tier.TierDefinition;
import tools.jackson.databind.ObjectWriter;

/**
 * The {@code simulate} command line: reads a trace and optional fleet, tier and price
 * files, simulates, writes the report as JSON or self-contained HTML. Starts no Spring
 * context and needs no Redis and no cluster.
 */
public final class SimulateCommand {

	/** The usage text. */
	public static final String USAGE = """
			usage: java -jar tiergate.jar simulate --trace FILE --out report.html|report.json
			         [--fleet fleet.json] [--tiers tiers.json] [--prices prices.json]
			         [--tier-shares P0=0.2,P1=0.3,P2=0.5] [--seed 42]
			         [--speed K | --monthly-volume N] [--no-sweep] [--spill] [--threads N]
			  --trace           Azure CSV (TIMESTAMP,ContextTokens,GeneratedTokens), Mooncake JSONL or Tiergate's request log
			  --fleet           {"gpu":"NVIDIA-A100-SXM4-80GB","gpus":8,"sharing":"MPS","replicas":4,
			                     "models":[{"model":"llama-3.1-8b-instruct","sliceShare":1,"slots":8}]} (this is the default)
			  --tiers           changes to the default tiers, as PUT /api/v1/tiers takes them: {"P0":{"reservedShare":0.4}}
			  --prices          {"hosted":{"*":{"inputPerMillion":2.5,"outputPerMillion":10}},
			                     "gpuHourly":{"NVIDIA-A100-SXM4-80GB":2.74},"monthlyOverhead":0,"source":"..."}
			  --speed           replay K times faster than recorded; --monthly-volume scales the rate to N requests a month
			  --no-sweep        skip the sweep (replicas 1,2,4,8 x P0 share 0.1..0.5 x GPUs /2, x1, x2
			                    x P0's reserve on slots or on whole endpoints)
			  --spill           let P0 (at once) and P1 (after 2 s) spill to the hosted API, first token in 400 ms,
			                    15 ms a token, at the price sheet's hosted prices; the sweep tries caps of
			                    $0, $100, $500, $1,000 and $5,000 a month with every fleet
			       java -jar tiergate.jar simulate --scenario p0-flood [--out results.json]
			  --scenario p0-flood  P0 under a P2 flood on the embedded fleet: P0 TTFT with and without
			                    the flood, slot use, P2 throughput with and without P0, per placement and engine policy
			""";

	private SimulateCommand() {
	}

	/**
	 * Runs the command.
	 * @param args the arguments after {@code simulate}
	 * @param out where the summary goes
	 * @param err where errors go
	 * @return the exit code: 0 done, 2 bad input, 1 failure
	 */
	public static int run(String[] args, PrintStream out, PrintStream err) {
		if (Arrays.asList(args).contains("--scenario")) {
			return FloodScenario.command(args, out, err);
		}
		long started = System.nanoTime();
		Options options;
		try {
			options = Options.parse(args);
		}
		catch (IllegalArgumentException ex) {
			err.println("simulate: " + ex.getMessage());
			err.print(USAGE);
			return 2;
		}
		if (options == null) {
			out.print(USAGE);
			return 0;
		}
		// Jackson builds the report's serializers in a few hundred milliseconds on a cold
		// JVM: let another core do it while this one reads the trace.
		CompletableFuture<ObjectWriter> writer = CompletableFuture
			.supplyAsync(() -> SimulationFiles.JSON.writerFor(SimulationReport.class).withDefaultPrettyPrinter());
		try {
			Trace trace = TraceReader.read(options.trace);
			FleetSpec fleet = (options.fleet != null) ? SimulationFiles.fleet(options.fleet) : FleetSpec.defaults();
			Map<Tier, TierDefinition> tiers = (options.tiers != null) ? SimulationFiles.tiers(options.tiers) : null;
			PriceSheet prices = (options.prices != null) ? SimulationFiles.prices(options.prices) : null;
			TierAssignment assignment = new TierAssignment(options.shares, Map.of(), false, options.seed);
			TimeScaling speed = (options.monthlyVolume > 0) ? TimeScaling.toMonthlyVolume(trace, options.monthlyVolume)
					: new TimeScaling(options.speed);
			SimulationSettings settings = new SimulationSettings(fleet, tiers, null, null, 2, prices, assignment, speed,
					options.sweep ? null : SimulationSettings.Sweep.none(),
					options.spill ? SpillOption.defaults() : null);
			Simulator simulator = (options.threads > 0) ? new Simulator(options.threads) : Simulator.onAllCores();
			SimulationReport report = simulator.simulate(trace, settings, (fraction) -> {
			});
			String text = options.out.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".json")
					? writer.join().writeValueAsString(report) : HtmlReport.render(report);
			Files.writeString(options.out, text, StandardCharsets.UTF_8);
			summarize(report, out);
			out.printf(Locale.ROOT, "wrote %s in %.2f s%n", options.out, (System.nanoTime() - started) / 1e9);
			return 0;
		}
		catch (InvalidTraceException | InvalidTierException | IllegalArgumentException ex) {
			err.println("simulate: " + ex.getMessage());
			return 2;
		}
		catch (IOException | UncheckedIOException ex) {
			err.println("simulate: " + ex.getMessage());
			return 1;
		}
	}

	private static void summarize(SimulationReport report, PrintStream out) {
		out.printf(Locale.ROOT, "%s: %,d requests over %.1f min on %d x %s (%s, %d replicas)%n", report.trace(),
				report.requests(), report.spanSeconds() / 60, report.fleet().gpus(), report.fleet().gpu(),
				report.fleet().sharing(), report.fleet().replicas());
		for (SimulationReport.Run run : new SimulationReport.Run[] { report.tiered(), report.fifo(),
				report.staticPartition() }) {
			if (!run.fits()) {
				out.printf(Locale.ROOT, "  %-7s the model does not fit a slice%n", run.name());
				continue;
			}
			StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "  %-7s", run.name()));
			run.tiers()
				.forEach((tier, result) -> line.append(String.format(Locale.ROOT,
						"  %s TTFT p50/p99 %.0f/%.0f ms e2e p50 %.0f ms SLO %.1f%%", tier, result.ttftMs().p50(),
						result.ttftMs().p99(), result.e2eMs().p50(), result.sloAttainment() * 100)));
			out.println(line);
		}
		SimulationReport.Cost cost = report.cost();
		out.printf(Locale.ROOT,
				"  cost: %,.0f requests/month; self-hosted $%,.0f vs hosted API $%,.0f a month; break-even %,.0f requests/month%n",
				cost.monthlyRequests(), cost.selfHostedMonthly(), cost.hostedMonthly(),
				cost.breakEvenMonthlyRequests());
		SimulationReport.SweepPoint best = report.recommendation();
		if (!report.sweep().isEmpty()) {
			out.println((best != null)
					? String.format(Locale.ROOT,
							"  recommended: %d GPUs, %d replicas, P0 share %.1f (P0 TTFT p99 %.0f ms, $%,.0f a month)",
							best.gpus(), best.replicas(), best.p0Share(), best.p0TtftP99Ms(), best.selfHostedMonthly())
					: "  recommended: none of the " + report.sweep().size() + " settings meets P0's TTFT target");
		}
	}

	private static final class Options {

		private Path trace;

		private Path out;

		private Path fleet;

		private Path tiers;

		private Path prices;

		private Map<Tier, Double> shares;

		private long seed = 42;

		private double speed = 1;

		private double monthlyVolume;

		private boolean sweep = true;

		private boolean spill;

		private int threads;

		static Options parse(String[] args) {
			Options options = new Options();
			for (int i = 0; i < args.length; i++) {
				String arg = args[i];
				if (arg.equals("--help") || arg.equals("-h")) {
					return null;
				}
				if (arg.equals("--no-sweep")) {
					options.sweep = false;
					continue;
				}
				if (arg.equals("--spill")) {
					options.spill = true;
					continue;
				}
				if (i + 1 >= args.length) {
					throw new IllegalArgumentException(arg + " needs a value");
				}
				String value = args[++i];
				switch (arg) {
					case "--trace" -> options.trace = existing(arg, value);
					case "--out" -> options.out = Path.of(value);
					case "--fleet" -> options.fleet = existing(arg, value);
					case "--tiers" -> options.tiers = existing(arg, value);
					case "--prices" -> options.prices = existing(arg, value);
					case "--tier-shares" -> options.shares = TierAssignment.parseShares(value);
					case "--seed" -> options.seed = number(arg, value, Long::parseLong);
					case "--speed" -> options.speed = positive(arg, number(arg, value, Double::parseDouble));
					case "--monthly-volume" ->
						options.monthlyVolume = positive(arg, number(arg, value, Double::parseDouble));
					case "--threads" -> options.threads = (int) positive(arg, number(arg, value, Integer::parseInt));
					default -> throw new IllegalArgumentException("unknown option " + arg);
				}
			}
			if (options.trace == null) {
				throw new IllegalArgumentException("--trace is required");
			}
			if (options.out == null) {
				throw new IllegalArgumentException("--out is required (report.html or report.json)");
			}
			String name = options.out.getFileName().toString().toLowerCase(Locale.ROOT);
			if (!name.endsWith(".html") && !name.endsWith(".json")) {
				throw new IllegalArgumentException("--out must end in .html or .json, was " + options.out);
			}
			return options;
		}

		private static Path existing(String option, String value) {
			Path path = Path.of(value);
			if (!Files.isRegularFile(path)) {
				throw new IllegalArgumentException(option + ": no such file " + value);
			}
			return path;
		}

		private static <T extends Number> T number(String option, String value,
				java.util.function.Function<String, T> parser) {
			try {
				return parser.apply(value);
			}
			catch (NumberFormatException ex) {
				throw new IllegalArgumentException(option + " needs a number, was '" + value + "'");
			}
		}

		private static double positive(String option, Number value) {
			if (!(value.doubleValue() > 0) || Double.isInfinite(value.doubleValue())) {
				throw new IllegalArgumentException(option + " must be positive, was " + value);
			}
			return value.doubleValue();
		}

	}

}
