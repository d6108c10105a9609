package dev.tiergate;

import java.util.Arrays;
import java.util.stream.Stream;

import org.springframework.boot.SpringApplication;

import dev.tiergate.fleet.SimulatedGpuFleet;

/**
 * The embedded default ({@code ./mvnw spring-boot:test-run}): Tiergate, unchanged,
 * reading a simulated GPU fleet through the official Kubernetes client, with demo
 * operators, tenants and keys seeded.
 * <p>
 * The fleet's speed follows {@code TIERGATE_FLEET_TIME_SCALE} (default 0.25: four times
 * faster than a real A100). With {@code TIERGATE_FLEET_API_SERVER} set, Tiergate reads a
 * fleet that runs elsewhere (the benchmark's fleet process, {@code bench.FleetProcess})
 * instead of starting one.
 */
public class TestTiergateApplication {

	public static void main(String[] args) {
		String external = System.getenv("TIERGATE_FLEET_API_SERVER");
		String apiServer;
		if (external != null && !external.isBlank()) {
			apiServer = external;
		}
		else {
			double timeScale = Double.parseDouble(System.getenv().getOrDefault("TIERGATE_FLEET_TIME_SCALE", "0.25"));
			SimulatedGpuFleet fleet = SimulatedGpuFleet.startDefault(timeScale);
			Runtime.getRuntime().addShutdownHook(new Thread(fleet::close, "fleet-shutdown"));
			apiServer = fleet.apiServerUrl();
		}
		String[] withFleet = Stream
			.concat(Stream.of("--tiergate.cluster.api-server=" + apiServer,
					"--logging.level.io.fabric8.mockwebserver=WARN"), Arrays.stream(args))
			.toArray(String[]::new);
		SpringApplication.from(TiergateApplication::main).with(EmbeddedDefaults.class).run(withFleet);
	}

}
