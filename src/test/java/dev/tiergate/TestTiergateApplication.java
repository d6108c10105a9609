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
 * faster than a real A100).
 */
public class TestTiergateApplication {

	public static void main(String[] args) {
		double timeScale = Double.parseDouble(System.getenv().getOrDefault("TIERGATE_FLEET_TIME_SCALE", "0.25"));
		SimulatedGpuFleet fleet = SimulatedGpuFleet.startDefault(timeScale);
		Runtime.getRuntime().addShutdownHook(new Thread(fleet::close, "fleet-shutdown"));
		String[] withFleet = Stream.concat(Stream.of("--tiergate.cluster.api-server=" + fleet.apiServerUrl(),
				"--logging.level.io.fabric8.mockwebserver=WARN"), Arrays.stream(args))
			.toArray(String[]::new);
		SpringApplication.from(TiergateApplication::main).with(EmbeddedDefaults.class).run(withFleet);
	}

}
