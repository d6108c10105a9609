package dev.tiergate.bench;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * A load generator of its own process, for the front-door benchmark
 * ({@code bench/run.sh}).
 * <ul>
 * <li>{@code --rate R}: open loop at a constant R requests/s. Each request has an
 * intended start time ({@code start + i/R}); its latency runs from that time, not from
 * when it was actually sent, so a stalled server is charged for the requests it held back
 * (corrected for coordinated omission, as wrk2 does). At most {@code --max-in-flight}
 * requests are outstanding; waiting for one counts as latency.</li>
 * <li>{@code --concurrency C}: closed loop with C workers sending back to back, for the
 * maximum rate and for one request at a time ({@code C=1}).</li>
 * </ul>
 * With {@code --stream}, the body asks for server-sent events and the time to the first
 * byte is recorded as well, and the number of streams held open (first byte arrived, end
 * not yet) is sampled every 100 ms; {@code --timeout S} (60) bounds a request until its
 * headers. A closed-loop streaming worker turned away with a {@code Retry-After} (429,
 * 503) waits that long before its next request, as OpenAI's client libraries do, instead
 * of asking again at once. {@code --warmup S} (5) seconds of the same load come first,
 * not measured; with {@code --jit-quiet P} the warm-up then goes on a second at a time
 * until this JVM's own compilers used under P percent of a core for 3 seconds in a row,
 * up to {@code --warmup-max S} (60) seconds in all. Writes one JSON object of results to
 * {@code --out}, with the warm-up's seconds and the compilers' milliseconds during the
 * measured run. With {@code --slow-ms T --slow-out F}, every measured request that took
 * longer than T ms is also written to F, one line each: the wall-clock millisecond it
 * ended, its latency in ms, and its worker's request number (closed loop) or its place in
 * the schedule (open loop), to lay the tail beside a collector's or the kernel's log.
 */
public final class LoadGenerator {

	private static final long HIGHEST = Duration.ofSeconds(120).toNanos();

	/**
	 * Seconds in a row with the compilers quiet that end {@code --jit-quiet}'s warm-up.
	 */
	private static final int QUIET_SECONDS = 3;

	private final HttpClient http = HttpClient.newBuilder()
		.version(HttpClient.Version.HTTP_1_1)
		.connectTimeout(Duration.ofSeconds(5))
		.executor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor())
		.build();

	private final Map<String, String> options;

	private final Recorder latency = new Recorder(HIGHEST, 3);

	private final Recorder firstByte = new Recorder(HIGHEST, 3);

	private final LongAdder ok = new LongAdder();

	private final LongAdder errors = new LongAdder();

	/**
	 * Every answered request, warm-up included (for per-request counts taken outside).
	 */
	private final LongAdder answered = new LongAdder();

	private final Map<String, LongAdder> statuses = new ConcurrentHashMap<>();

	/** Measured requests over {@code --slow-ms}: end (epoch ms), latency (ns), number. */
	private final Queue<long[]> slow = new ConcurrentLinkedQueue<>();

	private long slowNanos = Long.MAX_VALUE;

	/** Seconds of warm-up before the measured run, {@code --jit-quiet}'s included. */
	private double warmupSeconds;

	/** Milliseconds this JVM's compilers spent during the measured run. */
	private long jitMillis;

	/** Whether {@link #held} is sampled: during the measured run only. */
	private volatile boolean sampling;

	/** Answers whose first byte has arrived and whose end has not: streams held open. */
	private final java.util.concurrent.atomic.AtomicInteger open = new java.util.concurrent.atomic.AtomicInteger();

	/** Samples of {@link #open}, every 100 ms of the measured run. */
	private final Histogram held = new Histogram(1_000_000, 3);

	private LoadGenerator(Map<String, String> options) {
		this.options = options;
	}

	public static void main(String[] args) throws Exception {
		Map<String, String> options = new LinkedHashMap<>();
		for (int i = 0; i < args.length; i++) {
			if (args[i].equals("--stream")) {
				options.put("stream", "true");
			}
			else if (args[i].startsWith("--") && i + 1 < args.length) {
				options.put(args[i].substring(2), args[++i]);
			}
			else {
				System.err.println("unknown argument: " + args[i]);
				System.exit(2);
			}
		}
		if (!options.containsKey("url") || !options.containsKey("out")) {
			System.err.println("usage: LoadGenerator --url U --out F (--rate R | --concurrency C) [--seconds S]"
					+ " [--warmup S] [--key K] [--model M] [--max-tokens N] [--stream] [--max-in-flight N]"
					+ " [--jit-quiet P [--warmup-max S]] [--slow-ms T --slow-out F]");
			System.exit(2);
		}
		new LoadGenerator(options).run();
	}

	private void run() throws Exception {
		double seconds = Double.parseDouble(this.options.getOrDefault("seconds", "20"));
		double warmup = Double.parseDouble(this.options.getOrDefault("warmup", "5"));
		HttpRequest request = request();
		if (this.options.containsKey("slow-ms")) {
			this.slowNanos = (long) (Double.parseDouble(this.options.get("slow-ms")) * 1e6);
		}
		if (warmup > 0) {
			drive(request, warmup);
		}
		double warmed = warmup;
		if (this.options.containsKey("jit-quiet")) {
			warmed += warmUntilQuiet(request, Double.parseDouble(this.options.get("jit-quiet")),
					Double.parseDouble(this.options.getOrDefault("warmup-max", "60")) - warmup);
		}
		this.warmupSeconds = warmed;
		long compiled = compilationMillis();
		this.latency.reset();
		this.firstByte.reset();
		this.ok.reset();
		this.errors.reset();
		this.statuses.clear();
		this.slow.clear();
		this.sampling = true;
		Thread sampler = Thread.ofPlatform().daemon().start(() -> {
			while (this.sampling) {
				synchronized (this.held) {
					this.held.recordValue(Math.max(0, this.open.get()));
				}
				LockSupport.parkNanos(100_000_000L);
			}
		});
		long started = System.nanoTime();
		long sent = drive(request, seconds);
		double elapsed = (System.nanoTime() - started) / 1e9;
		this.jitMillis = compilationMillis() - compiled;
		this.sampling = false;
		sampler.join();
		write(sent, elapsed);
		System.exit(0);
	}

	/**
	 * This process's own JIT: a load generator started afresh for a run compiles its HTTP
	 * client while it sends, on the cores the target shares (at one request at a time on
	 * a 2-core machine, with 2 s of warm-up, half the requests over 2 ms were in the
	 * first seconds of a 30 s run; docs/benchmarks.md, 2026-12-03 09:32). Goes on a
	 * second at a time until the compilers used under {@code quietPercent} of a core in
	 * each of {@link #QUIET_SECONDS} seconds in a row (at 500/s, one quiet second came
	 * before another 10% of a core of compiling), at most {@code most} seconds.
	 * @return the seconds it went on
	 */
	private double warmUntilQuiet(HttpRequest request, double quietPercent, double most) throws InterruptedException {
		double went = 0;
		int quiet = 0;
		while (went < most && quiet < QUIET_SECONDS) {
			long before = compilationMillis();
			long from = System.nanoTime();
			drive(request, 1);
			double seconds = (System.nanoTime() - from) / 1e9;
			went += seconds;
			quiet = ((compilationMillis() - before) < quietPercent * 10 * seconds) ? quiet + 1 : 0;
		}
		return went;
	}

	/**
	 * Milliseconds the JIT compilers of this JVM have spent, summed over its compiler
	 * threads.
	 */
	private static long compilationMillis() {
		CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
		return (jit != null && jit.isCompilationTimeMonitoringSupported()) ? jit.getTotalCompilationTime() : 0;
	}

	private HttpRequest request() {
		boolean stream = this.options.containsKey("stream");
		String body = String.format(Locale.ROOT,
				"{\"model\":\"%s\",\"messages\":[{\"role\":\"user\",\"content\":\"Say hello to the benchmark\"}],"
						+ "\"max_tokens\":%s,\"stream\":%s}",
				this.options.getOrDefault("model", "llama-3.1-8b-instruct"),
				this.options.getOrDefault("max-tokens", "1"), stream);
		HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(this.options.get("url")))
			.timeout(Duration.ofSeconds(Long.parseLong(this.options.getOrDefault("timeout", "60"))))
			.header("Content-Type", "application/json")
			.POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
		if (this.options.containsKey("key")) {
			builder.header("Authorization", "Bearer " + this.options.get("key"));
		}
		if (this.options.containsKey("tier")) {
			builder.header("X-Tiergate-Priority", this.options.get("tier"));
		}
		return builder.build();
	}

	/** Drives load for a while; returns how many requests were started. */
	private long drive(HttpRequest request, double seconds) throws InterruptedException {
		long end = System.nanoTime() + (long) (seconds * 1e9);
		if (this.options.containsKey("concurrency")) {
			int workers = Integer.parseInt(this.options.get("concurrency"));
			boolean backOff = this.options.containsKey("stream");
			AtomicLong started = new AtomicLong();
			List<Thread> threads = new ArrayList<>();
			for (int w = 0; w < workers; w++) {
				threads.add(Thread.ofVirtual().start(() -> {
					long number = 0;
					while (System.nanoTime() < end) {
						started.incrementAndGet();
						long retryAfter = send(request, System.nanoTime(), number++);
						if (backOff && retryAfter > 0) {
							LockSupport.parkNanos(Math.min(retryAfter, end - System.nanoTime()));
						}
					}
				}));
			}
			for (Thread thread : threads) {
				thread.join();
			}
			return started.get();
		}
		double rate = Double.parseDouble(this.options.getOrDefault("rate", "100"));
		Semaphore inFlight = new Semaphore(Integer.parseInt(this.options.getOrDefault("max-in-flight", "2000")));
		long start = System.nanoTime();
		long interval = (long) (1e9 / rate);
		long i = 0;
		while (true) {
			long intended = start + i * interval;
			if (intended >= end) {
				break;
			}
			long wait = intended - System.nanoTime();
			if (wait > 0) {
				LockSupport.parkNanos(wait);
			}
			inFlight.acquire();
			long number = i;
			Thread.ofVirtual().start(() -> {
				try {
					send(request, intended, number);
				}
				finally {
					inFlight.release();
				}
			});
			i++;
		}
		inFlight.acquire(Integer.parseInt(this.options.getOrDefault("max-in-flight", "2000")));
		// The whole while, also when the last request left before it (at 1 request/s,
		// one second of load is one request): the throughput and --jit-quiet's seconds
		// are per second of load.
		for (long left = end - System.nanoTime(); left > 0; left = end - System.nanoTime()) {
			LockSupport.parkNanos(left);
		}
		return i;
	}

	/**
	 * Sends one request and reads its answer to the end.
	 * @return the nanoseconds of its {@code Retry-After} when it was turned away with one
	 * (429 or 503), else 0
	 */
	private long send(HttpRequest request, long intended, long number) {
		long retryAfter = 0;
		try {
			HttpResponse<java.io.InputStream> response = this.http.send(request,
					HttpResponse.BodyHandlers.ofInputStream());
			int status = response.statusCode();
			if (status == 429 || status == 503) {
				retryAfter = response.headers().firstValue("Retry-After").map(LoadGenerator::seconds).orElse(0L);
			}
			try (java.io.InputStream in = response.body()) {
				byte[] buffer = new byte[8192];
				int n = in.read(buffer);
				long first = System.nanoTime();
				// Held: a stream's answer, not an error's.
				int held = (status == 200) ? 1 : 0;
				this.open.addAndGet(held);
				try {
					while (n >= 0) {
						n = in.read(buffer);
					}
				}
				finally {
					this.open.addAndGet(-held);
				}
				// Time to first byte of answers, not of refusals (a 503 replica_full
				// comes at once and would make a full replica look fast).
				if (status == 200) {
					this.firstByte.recordValue(Math.min(HIGHEST, first - intended));
				}
			}
			long done = System.nanoTime();
			this.answered.increment();
			// Recorded in the warm-up too, and reset before the measured run, so that the
			// warm-up compiles the same code as the measured run.
			this.latency.recordValue(Math.min(HIGHEST, done - intended));
			if (done - intended > this.slowNanos) {
				this.slow.add(new long[] { System.currentTimeMillis(), done - intended, number });
			}
			this.statuses.computeIfAbsent(Integer.toString(status), (k) -> new LongAdder()).increment();
			(status == 200 ? this.ok : this.errors).increment();
		}
		catch (Exception ex) {
			this.latency.recordValue(Math.min(HIGHEST, System.nanoTime() - intended));
			this.statuses.computeIfAbsent(ex.getClass().getSimpleName(), (k) -> new LongAdder()).increment();
			this.errors.increment();
		}
		return retryAfter;
	}

	/**
	 * A {@code Retry-After} in seconds as nanoseconds; 0 for an HTTP date or nonsense.
	 */
	private static long seconds(String value) {
		try {
			return Duration.ofSeconds(Long.parseLong(value.strip())).toNanos();
		}
		catch (NumberFormatException ex) {
			return 0;
		}
	}

	private void write(long sent, double elapsed) throws java.io.IOException {
		Histogram all = this.latency.getIntervalHistogram();
		Histogram first = this.firstByte.getIntervalHistogram();
		long done = this.ok.sum() + this.errors.sum();
		StringBuilder json = new StringBuilder("{");
		json.append(String.format(Locale.ROOT, "\"sent\":%d,\"completed\":%d,\"ok\":%d,\"errors\":%d,", sent, done,
				this.ok.sum(), this.errors.sum()));
		json.append(String.format(Locale.ROOT, "\"seconds\":%.3f,\"throughput\":%.1f,\"answeredWithWarmup\":%d,",
				elapsed, done / elapsed, this.answered.sum()));
		json.append(String.format(Locale.ROOT, "\"warmupSeconds\":%.1f,\"jitMsInRun\":%d,", this.warmupSeconds,
				this.jitMillis));
		json.append("\"latencyMs\":").append(percentiles(all)).append(',');
		json.append("\"firstByteMs\":").append(percentiles(first)).append(',');
		synchronized (this.held) {
			json.append(String.format(Locale.ROOT, "\"heldStreams\":{\"mean\":%.1f,\"min\":%d,\"max\":%d},",
					this.held.getMean(), (this.held.getTotalCount() > 0) ? this.held.getMinValue() : 0,
					this.held.getMaxValue()));
		}
		json.append("\"statuses\":{");
		String statusList = String.join(",",
				this.statuses.entrySet().stream().map((e) -> "\"" + e.getKey() + "\":" + e.getValue().sum()).toList());
		json.append(statusList).append("}}");
		Files.writeString(Path.of(this.options.get("out")), json.toString(), StandardCharsets.UTF_8);
		if (this.options.containsKey("slow-out")) {
			StringBuilder lines = new StringBuilder();
			for (long[] request : this.slow) {
				lines.append(String.format(Locale.ROOT, "%d %.3f %d%n", request[0], request[1] / 1e6, request[2]));
			}
			Files.writeString(Path.of(this.options.get("slow-out")), lines, StandardCharsets.UTF_8);
		}
		System.out.println(json);
	}

	private static String percentiles(Histogram h) {
		if (h.getTotalCount() == 0) {
			return "null";
		}
		return String.format(Locale.ROOT,
				"{\"mean\":%.3f,\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f}", h.getMean() / 1e6,
				h.getValueAtPercentile(50) / 1e6, h.getValueAtPercentile(90) / 1e6, h.getValueAtPercentile(99) / 1e6,
				h.getValueAtPercentile(99.9) / 1e6, h.getMaxValue() / 1e6);
	}

}
