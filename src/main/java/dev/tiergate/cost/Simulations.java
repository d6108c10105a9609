package dev.tiergate.cost;

import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import dev.tiergate.problem.NotFoundException;
import dev.tiergate.tier.InvalidTierException;
import dev.tiergate.tier.Tier;
import dev.tiergate.tier.TierProperties;
import tools.jackson.core.JacksonException;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.JsonNode;

/**
 * Simulations started through the API or the dashboard: checked when asked for, run one
 * at a time in the background, kept in memory (the latest {@code maxSimulations}).
 */
public class Simulations implements AutoCloseable {

	private final CostProperties properties;

	private final PriceSheets prices;

	private final Clock clock;

	private final ExecutorService executor = Executors.newSingleThreadExecutor((runnable) -> {
		Thread thread = new Thread(runnable, "simulations");
		thread.setDaemon(true);
		return thread;
	});

	private final Map<String, Job> jobs = new LinkedHashMap<>();

	private final AtomicLong ids = new AtomicLong();

	public Simulations(CostProperties properties, PriceSheets prices, Clock clock) {
		this.properties = properties;
		this.prices = prices;
		this.clock = clock;
	}

	/**
	 * The trace files a request may name.
	 * @return file names in the traces folder, sorted; empty if it does not exist
	 */
	public List<String> traces() {
		Path dir = this.properties.tracesPath();
		if (!Files.isDirectory(dir)) {
			return List.of();
		}
		try (Stream<Path> files = Files.list(dir)) {
			return files.filter(Files::isRegularFile)
				.map((file) -> file.getFileName().toString())
				.filter((name) -> name.endsWith(".csv") || name.endsWith(".jsonl"))
				.sorted()
				.toList();
		}
		catch (IOException ex) {
			return List.of();
		}
	}

	/**
	 * Checks a request and starts it in the background.
	 * @param request the JSON request (see the README)
	 * @return the job, queued
	 * @throws InvalidCostRequestException naming the field at fault
	 */
	public Job start(JsonNode request) {
		if (request == null || !request.isObject()) {
			throw new InvalidCostRequestException("body", "must be a JSON object");
		}
		for (String field : request.propertyNames()) {
			if (!List
				.of("trace", "traceContent", "fleet", "tiers", "tierShares", "seed", "speed", "monthlyVolume", "sweep",
						"spill")
				.contains(field)) {
				throw new InvalidCostRequestException(field, "is not a known field (trace, traceContent, fleet, tiers, "
						+ "tierShares, seed, speed, monthlyVolume, sweep, spill)");
			}
		}
		Trace trace = trace(request);
		FleetSpec fleet = request.hasNonNull("fleet") ? convert("fleet", request.get("fleet"), FleetSpec.class)
				: FleetSpec.defaults();
		Map<Tier, TierProperties.Override> tierChanges = request.hasNonNull("tiers")
				? convert("tiers", request.get("tiers"), new TypeReference<>() {
				}) : Map.of();
		Map<Tier, Double> shares = request.hasNonNull("tierShares")
				? convert("tierShares", request.get("tierShares"), new TypeReference<Map<Tier, Double>>() {
				}) : null;
		long seed = request.hasNonNull("seed") ? integer(request, "seed") : 42;
		double speed = request.hasNonNull("speed") ? positive(request, "speed") : 1;
		double volume = request.hasNonNull("monthlyVolume") ? positive(request, "monthlyVolume") : 0;
		boolean sweep = true;
		if (request.has("sweep")) {
			if (!request.get("sweep").isBoolean()) {
				throw new InvalidCostRequestException("sweep", "must be true or false");
			}
			sweep = request.get("sweep").booleanValue();
		}
		SimulationSettings settings;
		try {
			TierAssignment assignment = new TierAssignment(shares, Map.of(), false, seed);
			TimeScaling scaling = (volume > 0) ? TimeScaling.toMonthlyVolume(trace, volume) : new TimeScaling(speed);
			settings = new SimulationSettings(fleet, SimulationFiles.applyTiers(tierChanges), null, null, 2,
					this.prices.current(), assignment, scaling, sweep ? null : SimulationSettings.Sweep.none(),
					spill(request.get("spill")));
		}
		catch (InvalidTierException ex) {
			throw new InvalidCostRequestException("tiers." + ex.field(), ex.getMessage());
		}
		catch (IllegalArgumentException ex) {
			throw new InvalidCostRequestException(fieldOf(ex.getMessage(), ""), ex.getMessage());
		}
		Job job = new Job("sim-" + this.ids.incrementAndGet(), trace.name(), this.clock.instant());
		synchronized (this.jobs) {
			this.jobs.put(job.id, job);
			while (this.jobs.size() > this.properties.maxSimulations()) {
				this.jobs.remove(this.jobs.keySet().iterator().next());
			}
		}
		this.executor.submit(() -> run(job, trace, settings));
		return job;
	}

	private void run(Job job, Trace trace, SimulationSettings settings) {
		job.status = Status.RUNNING;
		long started = System.nanoTime();
		try {
			job.report = new Simulator(this.properties.threads()).simulate(trace, settings,
					(fraction) -> job.progress = fraction);
			job.progress = 1;
			job.status = Status.DONE;
		}
		catch (RuntimeException ex) {
			job.error = ex.getMessage();
			job.status = Status.FAILED;
		}
		job.wallSeconds = (System.nanoTime() - started) / 1e9;
		job.finishedAt = this.clock.instant();
	}

	/**
	 * A simulation.
	 * @param id its id
	 * @return the job
	 * @throws NotFoundException if there is none (or it was dropped)
	 */
	public Job get(String id) {
		synchronized (this.jobs) {
			return Optional.ofNullable(this.jobs.get(id))
				.orElseThrow(() -> new NotFoundException("id",
						"no simulation '" + id + "' (kept: the latest " + this.properties.maxSimulations() + ")"));
		}
	}

	/**
	 * The simulations kept, newest first.
	 * @return the jobs
	 */
	public List<Job> list() {
		synchronized (this.jobs) {
			List<Job> list = new ArrayList<>(this.jobs.values());
			java.util.Collections.reverse(list);
			return list;
		}
	}

	private Trace trace(JsonNode request) {
		boolean named = request.hasNonNull("trace");
		boolean inline = request.hasNonNull("traceContent");
		if (named == inline) {
			throw new InvalidCostRequestException("trace",
					"give either trace (a file name from GET /api/v1/cost/traces) or traceContent (the trace itself)");
		}
		try {
			if (inline) {
				if (!request.get("traceContent").isString()) {
					throw new InvalidCostRequestException("traceContent", "must be a string");
				}
				String content = request.get("traceContent").stringValue();
				if (content.length() > this.properties.maxTraceSize().toBytes()) {
					throw new InvalidCostRequestException("traceContent",
							"is larger than " + this.properties.maxTraceSize());
				}
				return TraceReader.read("traceContent", new StringReader(content));
			}
			if (!request.get("trace").isString()) {
				throw new InvalidCostRequestException("trace", "must be a file name");
			}
			String name = request.get("trace").stringValue();
			if (!traces().contains(name)) {
				throw new InvalidCostRequestException("trace",
						"no trace file '" + name + "'; available: " + String.join(", ", traces()));
			}
			return TraceReader.read(this.properties.tracesPath().resolve(name));
		}
		catch (InvalidTraceException ex) {
			throw new InvalidCostRequestException(inline ? "traceContent" : "trace", ex.getMessage());
		}
		catch (IOException ex) {
			throw new InvalidCostRequestException("trace", "cannot be read: " + ex.getMessage());
		}
	}

	/**
	 * The spill option of a request: absent or {@code false} for none, {@code true} for
	 * {@link SpillOption#defaults()}, or an object overriding its fields
	 * ({@code spillAfter} per tier, {@code hostedTtft}, {@code hostedTokenTime} as
	 * ISO-8601 durations, {@code monthlyCaps} as a list of US dollars).
	 */
	private SpillOption spill(JsonNode node) {
		if (node == null || node.isNull() || (node.isBoolean() && !node.booleanValue())) {
			return null;
		}
		SpillOption defaults = SpillOption.defaults();
		if (node.isBoolean()) {
			return defaults;
		}
		if (!node.isObject()) {
			throw new InvalidCostRequestException("spill", "must be true, false or an object");
		}
		for (String field : node.propertyNames()) {
			if (!List.of("spillAfter", "hostedTtft", "hostedTokenTime", "monthlyCaps").contains(field)) {
				throw new InvalidCostRequestException("spill." + field,
						"is not a known field (spillAfter, hostedTtft, hostedTokenTime, monthlyCaps)");
			}
		}
		return new SpillOption(node.hasNonNull("spillAfter") ? convert("spill.spillAfter", node.get("spillAfter"),
				new TypeReference<Map<Tier, java.time.Duration>>() {
				}) : defaults.spillAfter(),
				node.hasNonNull("hostedTtft")
						? convert("spill.hostedTtft", node.get("hostedTtft"), java.time.Duration.class)
						: defaults.hostedTtft(),
				node.hasNonNull("hostedTokenTime")
						? convert("spill.hostedTokenTime", node.get("hostedTokenTime"), java.time.Duration.class)
						: defaults.hostedTokenTime(),
				node.hasNonNull("monthlyCaps")
						? convert("spill.monthlyCaps", node.get("monthlyCaps"), new TypeReference<List<Double>>() {
						}) : defaults.monthlyCaps());
	}

	private static <T> T convert(String field, JsonNode node, Class<T> type) {
		try {
			return SimulationFiles.JSON.treeToValue(node, type);
		}
		catch (JacksonException ex) {
			String message = SimulationFiles.describe(ex);
			throw new InvalidCostRequestException(fieldOf(message, field + "."), message);
		}
	}

	private static <T> T convert(String field, JsonNode node, TypeReference<T> type) {
		try {
			return SimulationFiles.JSON.readValue(SimulationFiles.JSON.writeValueAsString(node), type);
		}
		catch (JacksonException ex) {
			throw new InvalidCostRequestException(field, SimulationFiles.describe(ex));
		}
	}

	/**
	 * The field a validation message starts with ({@code "gpus must be ..."} gives
	 * {@code gpus}).
	 */
	static String fieldOf(String message, String prefix) {
		if (message == null) {
			return prefix.isEmpty() ? "body" : prefix.substring(0, prefix.length() - 1);
		}
		String first = message.split(" ", 2)[0];
		if (first.matches("[a-z][A-Za-z0-9_.\\[\\]*-]*") && !first.equals("unknown")) {
			return prefix + first;
		}
		return prefix.isEmpty() ? "body" : prefix.substring(0, prefix.length() - 1);
	}

	private static long integer(JsonNode request, String field) {
		JsonNode value = request.get(field);
		if (!value.isIntegralNumber() || !value.canConvertToLong()) {
			throw new InvalidCostRequestException(field, "must be an integer");
		}
		return value.longValue();
	}

	private static double positive(JsonNode request, String field) {
		JsonNode value = request.get(field);
		if (!value.isNumber() || !(value.doubleValue() > 0) || Double.isInfinite(value.doubleValue())) {
			throw new InvalidCostRequestException(field, "must be a positive number");
		}
		return value.doubleValue();
	}

	@Override
	public void close() {
		this.executor.shutdownNow();
	}

	/**
	 * Where a simulation stands.
	 */
	public enum Status {

		/** Waiting for the one before to end. */
		QUEUED,

		/** Running. */
		RUNNING,

		/** Done: the report is there. */
		DONE,

		/** Failed: the error says why. */
		FAILED

	}

	/**
	 * One simulation; fields are written by the simulation thread and read by others.
	 */
	public static final class Job {

		private final String id;

		private final String trace;

		private final Instant createdAt;

		private volatile Status status = Status.QUEUED;

		private volatile double progress;

		private volatile SimulationReport report;

		private volatile String error;

		private volatile double wallSeconds;

		private volatile Instant finishedAt;

		Job(String id, String trace, Instant createdAt) {
			this.id = id;
			this.trace = trace;
			this.createdAt = createdAt;
		}

		/**
		 * What the API and the page show.
		 * @param withReport whether to include the report
		 * @return the view
		 */
		public Map<String, Object> view(boolean withReport) {
			Map<String, Object> view = new LinkedHashMap<>();
			view.put("id", this.id);
			view.put("trace", this.trace);
			view.put("status", this.status.name());
			view.put("progress", Math.round(this.progress * 1000) / 1000.0);
			view.put("createdAt", this.createdAt.toString());
			if (this.finishedAt != null) {
				view.put("finishedAt", this.finishedAt.toString());
				view.put("wallSeconds", Math.round(this.wallSeconds * 1000) / 1000.0);
			}
			if (this.error != null) {
				view.put("error", this.error);
			}
			if (withReport && this.report != null) {
				view.put("report", this.report);
			}
			return view;
		}

		/**
		 * The id.
		 * @return the id
		 */
		public String id() {
			return this.id;
		}

		/**
		 * The status.
		 * @return the status
		 */
		public Status status() {
			return this.status;
		}

		/**
		 * The report, once done.
		 * @return the report or {@code null}
		 */
		public SimulationReport report() {
			return this.report;
		}

	}

}
