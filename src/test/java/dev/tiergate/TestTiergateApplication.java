package dev.tiergate;

import java.time.Duration;
import java.util.Arrays;
import java.util.stream.Stream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;

import dev.tiergate.fleet.SimulatedGpuFleet;
import dev.tiergate.fleet.SimulatedHostedApi;

/**
 * The embedded default ({@code ./mvnw spring-boot:test-run}): Tiergate, unchanged,
 * reading a simulated GPU fleet through the official Kubernetes client, with demo
 * operators, tenants and keys seeded. It needs nothing but a JDK: when no Redis answers
 * at the configured address ({@code spring.data.redis.host}/{@code port}, 127.0.0.1:6379
 * by default) it starts one of its own ({@link EmbeddedRedis}).
 * <p>
 * The fleet's speed follows {@code TIERGATE_FLEET_TIME_SCALE} (default 0.25: four times
 * faster than a real A100). With {@code TIERGATE_FLEET_API_SERVER} set, Tiergate reads a
 * fleet that runs elsewhere (the benchmark's fleet process, {@code bench.FleetProcess})
 * instead of starting one.
 */
public class TestTiergateApplication {

	private static final Logger logger = LoggerFactory.getLogger(TestTiergateApplication.class);

	public static void main(String[] args) {
		String external = System.getenv("TIERGATE_FLEET_API_SERVER");
		if (external != null && !external.isBlank()) {
			run(external, args);
			return;
		}
		double timeScale = Double.parseDouble(System.getenv().getOrDefault("TIERGATE_FLEET_TIME_SCALE", "0.25"));
		SimulatedGpuFleet fleet = SimulatedGpuFleet.startDefault(timeScale);
		Runtime.getRuntime().addShutdownHook(new Thread(fleet::close, "fleet-shutdown"));
		run(fleet.apiServerUrl(), args);
	}

	/**
	 * Starts the embedded default's application against a fleet, with a Redis of its own
	 * if the configured one does not answer; that Redis stops after the application
	 * context has closed.
	 * @param apiServer the fleet's Kubernetes API URL
	 * @param args command-line arguments
	 * @return the running application
	 */
	static ConfigurableApplicationContext run(String apiServer, String... args) {
		EmbeddedRedis redis = EmbeddedRedis.startIfUnreachable(args);
		String[] withRedis = args;
		if (redis != null) {
			logger.warn("{}", redis.describe());
			withRedis = redis.redirect(args);
			SpringApplication.getShutdownHandlers().add(redis::close);
		}
		SimulatedHostedApi hosted = startHostedApi();
		SpringApplication.getShutdownHandlers().add(hosted::close);
		String upstream = "--tiergate.spill.upstreams.[" + SimulatedGpuFleet.QWEN + "].";
		String[] withFleet = Stream.concat(Stream.of("--tiergate.cluster.api-server=" + apiServer,
				// Spill: the Qwen pool (the smaller one) overflows to a simulated hosted
				// API, under small caps.
				upstream + "base-uri=" + hosted.baseUri(), upstream + "model=hosted-qwen",
				upstream + "api-key=" + hosted.apiKey(), "--tiergate.spill.monthly-cap=50",
				"--tiergate.spill.tenant-monthly-cap=20",
				// The embedded default watches its fleet's namespace only, as the chart
				// requires of every installation.
				"--tiergate.cluster.namespaces=" + SimulatedGpuFleet.NAMESPACE,
				// Its Lease and tier ConfigMap: replicas started against one fleet share
				// them.
				"--tiergate.cluster.own-namespace=tiergate", "--logging.level.io.fabric8.mockwebserver=WARN",
				// As often as the simulated DCGM exporters' sample period, so measured
				// GPU time is exact.
				"--tiergate.metering.dcgm.scrape-interval=" + SimulatedGpuFleet.DCGM_SAMPLE_PERIOD.toSeconds() + "s",
				"--tiergate.metering.dcgm.history-step=10s"), Arrays.stream(withRedis))
			.toArray(String[]::new);
		try {
			return SpringApplication.from(TiergateApplication::main)
				.with(EmbeddedDefaults.class)
				.run(withFleet)
				.getApplicationContext();
		}
		catch (RuntimeException ex) {
			if (redis != null) {
				redis.close();
			}
			hosted.close();
			throw ex;
		}
	}

	/**
	 * The embedded default's hosted API: 300 ms a call, 20 calls a second, a random key.
	 */
	private static SimulatedHostedApi startHostedApi() {
		try {
			SimulatedHostedApi hosted = new SimulatedHostedApi("sk-embedded-" + java.util.UUID.randomUUID());
			hosted.latency(Duration.ofMillis(300));
			hosted.rateLimit(20);
			return hosted;
		}
		catch (java.io.IOException ex) {
			throw new java.io.UncheckedIOException(ex);
		}
	}

}
