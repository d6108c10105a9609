package dev.tiergate.replicas;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import dev.tiergate.EmbeddedDefaults;
import dev.tiergate.LocalRedis;
import dev.tiergate.TiergateApplication;
import dev.tiergate.cost.GpuProfile;
import dev.tiergate.cost.GpuServiceTimeModel;
import dev.tiergate.cost.ModelProfile;
import dev.tiergate.cost.SliceShare;
import dev.tiergate.fleet.SimulatedGpuFleet;
import dev.tiergate.replica.ReplicaIdentity;
import dev.tiergate.routing.EndpointRegistry;

import static org.awaitility.Awaitility.await;

/**
 * One Tiergate replica of a multi-replica test: its own application context in this JVM
 * (its own web server, dispatcher, slot ownership and leader election) with its own
 * {@code tiergate.replica.id}, sharing the test's Redis, Kubernetes API stand-in and
 * simulated fleet with the other replicas, and sharing slots in the replica fleet named
 * {@code fleetName} (new per test class, so that no other replica on the same Redis takes
 * part).
 *
 * @param id the replica id it was started with
 * @param context its application context
 * @param port its web server's port
 */
record Replica(String id, ConfigurableApplicationContext context, int port) {

	/** The model every pod of {@link #fleetOf} serves. */
	static final String MODEL = SimulatedGpuFleet.LLAMA;

	/**
	 * A simulated fleet of {@code pods} pods of {@code slots} slots each, serving
	 * {@link #MODEL} on one A100 split four ways by MPS.
	 * @param pods the pods
	 * @param slots the slots of each pod
	 * @return the started fleet
	 */
	static SimulatedGpuFleet fleetOf(int pods, int slots) {
		SimulatedGpuFleet fleet = SimulatedGpuFleet.startEmpty();
		GpuProfile a100 = GpuProfile.a100Sxm80gb();
		fleet.addNode("replicas-node", a100, 1, 4);
		GpuServiceTimeModel llama = new GpuServiceTimeModel(a100, ModelProfile.llama31_8b(), SliceShare.mps(4), 0.1);
		for (int i = 0; i < pods; i++) {
			fleet.addPod(String.format("shared-%02d", i), MODEL, "replicas-node", slots, llama);
		}
		return fleet;
	}

	/**
	 * Starts a replica and waits until it has discovered the fleet's {@code pods} pods.
	 * @param id the replica id
	 * @param fleet the simulated fleet (its Kubernetes API stand-in is the cluster)
	 * @param fleetName the replica fleet that shares slots
	 * @param pods the pods to wait for
	 * @param extra further arguments ({@code --name=value})
	 * @return the started replica
	 */
	static Replica start(String id, SimulatedGpuFleet fleet, String fleetName, int pods, String... extra) {
		List<String> args = new ArrayList<>(List.of("--server.port=0", "--management.server.port=0",
				"--spring.data.redis.database=" + LocalRedis.TEST_DATABASE,
				"--spring.data.redis.timeout=" + LocalRedis.TEST_TIMEOUT,
				"--tiergate.cluster.api-server=" + fleet.apiServerUrl(), "--tiergate.replica.id=" + id,
				"--tiergate.replicas.enabled=true", "--tiergate.replicas.fleet=" + fleetName,
				"--tiergate.replicas.heartbeat-ttl=2s", "--tiergate.replicas.sync-interval=100ms",
				"--logging.level.io.fabric8.mockwebserver=WARN", "--logging.level.io.kubernetes=ERROR"));
		args.addAll(List.of(extra));
		// Arguments, not default properties: application.yaml's server.port would win
		// over
		// those.
		ConfigurableApplicationContext context = new SpringApplicationBuilder(TiergateApplication.class,
				EmbeddedDefaults.class)
			.run(args.toArray(String[]::new));
		int port = Integer.parseInt(context.getEnvironment().getProperty("local.server.port"));
		EndpointRegistry registry = context.getBean(EndpointRegistry.class);
		await().atMost(Duration.ofSeconds(30)).until(() -> registry.pool(MODEL).size() == pods);
		return new Replica(id, context, port);
	}

	SlotOwnership ownership() {
		return this.context.getBean(SlotOwnership.class);
	}

	String name() {
		return this.context.getBean(ReplicaIdentity.class).name();
	}

	int owned() {
		return this.ownership().ownedByPool().getOrDefault(MODEL, 0);
	}

	URI uri(String path) {
		return URI.create("http://127.0.0.1:" + this.port + path);
	}

}
