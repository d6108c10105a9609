package dev.tiergate.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import dev.tiergate.fleet.SimulatedGpuFleet;

/**
 * The streaming scenario's fleet in a process of its own: the Kubernetes API stand-in and
 * {@code <pods>} {@link PacedStreamServer}s, each registered as a Ready vLLM pod of
 * {@code <slots>} slots, so that Tiergate discovers them through the official client as
 * it discovers the embedded fleet. Writes what the other processes need to a properties
 * file and runs until killed.
 * <p>
 * {@code java ... dev.tiergate.bench.StreamFleetProcess <pods> <slots> <tokens> <tokensPerSecond> <out.properties>}
 */
public final class StreamFleetProcess {

	static final String MODEL = "bench-stream";

	private StreamFleetProcess() {
	}

	public static void main(String[] args) throws IOException, InterruptedException {
		if (args.length != 5) {
			System.err.println("usage: StreamFleetProcess <pods> <slots> <tokens> <tokensPerSecond> <out.properties>");
			System.exit(2);
		}
		int pods = Integer.parseInt(args[0]);
		int slots = Integer.parseInt(args[1]);
		int tokens = Integer.parseInt(args[2]);
		double tokensPerSecond = Double.parseDouble(args[3]);
		SimulatedGpuFleet fleet = SimulatedGpuFleet.startEmpty();
		List<PacedStreamServer> servers = new ArrayList<>();
		CountDownLatch stopped = new CountDownLatch(1);
		Runtime.getRuntime().addShutdownHook(new Thread(() -> {
			servers.forEach(PacedStreamServer::close);
			fleet.close();
			stopped.countDown();
		}, "stream-fleet-shutdown"));
		List<String> ports = new ArrayList<>();
		for (int i = 0; i < pods; i++) {
			PacedStreamServer server = new PacedStreamServer(MODEL, tokens, tokensPerSecond);
			servers.add(server);
			fleet.registerPod(String.format("stream-%02d", i), MODEL, "gpu-node-" + (1 + i % 2), server.port(), slots);
			ports.add(Integer.toString(server.port()));
		}
		String properties = "apiServer=" + fleet.apiServerUrl() + "\nmodel=" + MODEL + "\nports="
				+ String.join(",", ports) + "\n";
		Path out = Path.of(args[4]);
		Path partial = out.resolveSibling(out.getFileName() + ".tmp");
		Files.writeString(partial, properties, StandardCharsets.UTF_8);
		Files.move(partial, out, StandardCopyOption.ATOMIC_MOVE);
		stopped.await();
	}

}
