package dev.tiergate.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import dev.tiergate.fleet.SimulatedGpuFleet;
import dev.tiergate.fleet.SimulatedInferenceServer;

/**
 * The embedded default's simulated GPU fleet (Kubernetes API stand-in and one simulated
 * inference server per pod) in a process of its own, so that a benchmark does not share a
 * JVM between the fleet, Tiergate and the load generator. Writes what the other processes
 * need to a properties file and runs until killed.
 * <p>
 * {@code java ... dev.tiergate.bench.FleetProcess <timeScale> <out.properties>}
 */
public final class FleetProcess {

	private FleetProcess() {
	}

	public static void main(String[] args) throws IOException, InterruptedException {
		if (args.length != 2) {
			System.err.println("usage: FleetProcess <timeScale> <out.properties>");
			System.exit(2);
		}
		double timeScale = Double.parseDouble(args[0]);
		SimulatedGpuFleet fleet = SimulatedGpuFleet.startDefault(timeScale);
		CountDownLatch stopped = new CountDownLatch(1);
		Runtime.getRuntime().addShutdownHook(new Thread(() -> {
			fleet.close();
			stopped.countDown();
		}, "fleet-shutdown"));
		List<String> ports = new ArrayList<>();
		for (SimulatedInferenceServer server : fleet.servers(SimulatedGpuFleet.LLAMA)) {
			ports.add(Integer.toString(server.port()));
		}
		String properties = "apiServer=" + fleet.apiServerUrl() + "\nmodel=" + SimulatedGpuFleet.LLAMA + "\nllamaPorts="
				+ String.join(",", ports) + "\n";
		Path out = Path.of(args[1]);
		Path partial = out.resolveSibling(out.getFileName() + ".tmp");
		Files.writeString(partial, properties, StandardCharsets.UTF_8);
		Files.move(partial, out, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
		stopped.await();
	}

}
