package dev.tiergate.cluster;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.representer.Representer;

/**
 * One GPU sharing profile: one key of the device plugin's ConfigMap, holding a device
 * plugin config ({@code api/config/v1} of NVIDIA's k8s-device-plugin) with either
 * {@code sharing.timeSlicing} or {@code sharing.mps} for one resource.
 *
 * @param name the ConfigMap key, also the value of the node label that selects it
 * @param strategy {@code time-slicing} or {@code mps}
 * @param replicas replicas of each GPU
 * @param resource the resource to share, {@code nvidia.com/gpu} unless a MIG resource
 * @param renameByDefault advertise the shared resource as {@code <resource>.shared}
 * @param failRequestsGreaterThanOne refuse pods that request more than one replica
 * @param rename the resource's {@code rename}, or {@code null}; the plugin currently
 * ignores it
 * @param devices the resource's {@code devices} ({@code "all"}, a count or a list), or
 * {@code null}; the plugin currently ignores it
 */
public record SharingProfile(String name, String strategy, int replicas, String resource, boolean renameByDefault,
		boolean failRequestsGreaterThanOne, String rename, Object devices) {

	/**
	 * Time-slicing: replicas take turns on the whole GPU, no memory or fault isolation.
	 */
	public static final String TIME_SLICING = "time-slicing";

	/**
	 * MPS: replicas run concurrently, each limited to 1/replicas of memory and compute.
	 */
	public static final String MPS = "mps";

	/** The full-GPU resource. */
	public static final String GPU = "nvidia.com/gpu";

	/** NVIDIA's limit of MPS clients per GPU (Volta and newer). */
	public static final int MAX_MPS_REPLICAS = 48;

	/** Above this many replicas a warning says what sharing costs. */
	public static final int MANY_REPLICAS = 8;

	private static final Pattern CONFIG_KEY = Pattern.compile("[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?");

	private static final Pattern MIG_RESOURCE = Pattern.compile("nvidia\\.com/mig-[1-8]g\\.[0-9]+gb(\\+me)?");

	private static final Pattern DEVICE_REF = Pattern
		.compile("[0-9]+|[0-9]+:[0-9]+|(GPU|MIG)-[-0-9a-fA-F]{36}|MIG-GPU-[-0-9a-fA-F]{36}/[0-9]+/[0-9]+");

	/**
	 * The profile with defaults filled in: resource {@code nvidia.com/gpu}.
	 * @return this profile, completed
	 */
	public SharingProfile withDefaults() {
		return new SharingProfile(this.name, this.strategy, this.replicas,
				(this.resource == null || this.resource.isBlank()) ? GPU : this.resource, this.renameByDefault,
				this.failRequestsGreaterThanOne, (this.rename == null || this.rename.isBlank()) ? null : this.rename,
				this.devices);
	}

	/**
	 * Checks the device plugin's own rules (and Tiergate's: at least 2 replicas, a name
	 * usable as a label value).
	 * @throws InvalidClusterChangeException naming the field that breaks a rule
	 */
	public void validate() {
		if (this.name == null || !CONFIG_KEY.matcher(this.name).matches()) {
			throw new InvalidClusterChangeException("name", "must be a ConfigMap key usable as a node label value: "
					+ "at most 63 characters of A-Z, a-z, 0-9, '-', '_', '.', starting and ending alphanumeric");
		}
		if (!TIME_SLICING.equals(this.strategy) && !MPS.equals(this.strategy)) {
			throw new InvalidClusterChangeException("strategy",
					"must be exactly one of 'time-slicing' or 'mps' (the plugin's sharing.timeSlicing or sharing.mps)");
		}
		if (this.replicas < 2) {
			throw new InvalidClusterChangeException("replicas",
					"must be at least 2 (1 replica is no sharing; leave the node unlabelled instead)");
		}
		String res = (this.resource == null || this.resource.isBlank()) ? GPU : this.resource;
		if (!GPU.equals(res) && !MIG_RESOURCE.matcher(res).matches()) {
			throw new InvalidClusterChangeException("resource", "unknown resource '" + res
					+ "': use nvidia.com/gpu or a MIG resource such as nvidia.com/mig-1g.10gb");
		}
		if (MPS.equals(this.strategy)) {
			if (this.replicas > MAX_MPS_REPLICAS) {
				throw new InvalidClusterChangeException("replicas",
						"MPS allows at most " + MAX_MPS_REPLICAS + " replicas per GPU");
			}
			if (!GPU.equals(res)) {
				throw new InvalidClusterChangeException("resource", "MPS shares only nvidia.com/gpu, not MIG devices");
			}
		}
		if (this.rename != null && !this.rename.isBlank() && !this.rename.matches("[a-z0-9]([-a-z0-9./]*[a-z0-9])?")) {
			throw new InvalidClusterChangeException("rename", "must be a resource name");
		}
		if (this.devices != null && !validDevices(this.devices)) {
			throw new InvalidClusterChangeException("devices",
					"must be \"all\", a positive count, or a list of GPU indices, MIG indices or UUIDs");
		}
	}

	private static boolean validDevices(Object devices) {
		if (devices instanceof String text) {
			return "all".equals(text);
		}
		if (devices instanceof Number count) {
			return count.longValue() > 0 && count.doubleValue() == count.longValue();
		}
		if (devices instanceof List<?> list) {
			return !list.isEmpty() && list.stream()
				.allMatch((d) -> (d instanceof Number n && n.longValue() >= 0)
						|| (d instanceof String s && DEVICE_REF.matcher(s).matches()));
		}
		return false;
	}

	/**
	 * Warnings that do not block the profile: fields the plugin ignores, and many
	 * replicas.
	 * @return warnings, possibly none
	 */
	public List<String> warnings() {
		List<String> warnings = new ArrayList<>();
		if (this.rename != null && !this.rename.isBlank()) {
			warnings.add("rename is set, but the device plugin currently ignores it (use renameByDefault)");
		}
		if (this.devices != null) {
			warnings.add("devices is set, but the device plugin currently ignores it: every GPU is shared");
		}
		if (this.replicas > MANY_REPLICAS) {
			warnings.add("MPS replicas are not infinite: " + this.replicas + " replicas per GPU leave each "
					+ (MPS.equals(this.strategy) ? "1/" + this.replicas + " of the GPU's memory and compute"
							: "a 1/" + this.replicas + " turn of the GPU and a share of its memory with no isolation"));
		}
		return warnings;
	}

	/**
	 * The resource name pods request after this profile is live.
	 * @return {@code nvidia.com/gpu}, or {@code nvidia.com/gpu.shared} with
	 * renameByDefault
	 */
	public String advertisedResource() {
		String res = withDefaults().resource();
		return this.renameByDefault ? res + ".shared" : res;
	}

	/**
	 * The device plugin config of this profile, as the plugin parses it.
	 * @return YAML text
	 */
	public String toYaml() {
		SharingProfile p = withDefaults();
		Map<String, Object> resource = new LinkedHashMap<>();
		resource.put("name", p.resource());
		if (p.rename() != null) {
			resource.put("rename", p.rename());
		}
		if (p.devices() != null) {
			resource.put("devices", p.devices());
		}
		resource.put("replicas", p.replicas());
		Map<String, Object> replicated = new LinkedHashMap<>();
		replicated.put("renameByDefault", p.renameByDefault());
		replicated.put("failRequestsGreaterThanOne", p.failRequestsGreaterThanOne());
		replicated.put("resources", List.of(resource));
		Map<String, Object> config = new LinkedHashMap<>();
		config.put("version", "v1");
		config.put("sharing", Map.of(MPS.equals(p.strategy()) ? "mps" : "timeSlicing", replicated));
		DumperOptions options = new DumperOptions();
		options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
		options.setIndent(2);
		options.setPrettyFlow(true);
		return new Yaml(new Representer(options), options).dump(config);
	}

	/**
	 * Reads a device plugin config written by Tiergate or by hand.
	 * @param name the ConfigMap key
	 * @param yaml the config
	 * @return the profile
	 * @throws InvalidClusterChangeException if it is not a single-resource sharing config
	 */
	@SuppressWarnings("unchecked")
	public static SharingProfile fromYaml(String name, String yaml) {
		Object loaded;
		try {
			loaded = new Yaml(new SafeConstructor(new LoaderOptions())).load(Objects.requireNonNullElse(yaml, ""));
		}
		catch (YAMLException ex) {
			throw new InvalidClusterChangeException("yaml", "is not valid YAML");
		}
		if (!(loaded instanceof Map<?, ?> config)) {
			throw new InvalidClusterChangeException("yaml", "is not a device plugin config");
		}
		if (!"v1".equals(String.valueOf(config.get("version")))) {
			throw new InvalidClusterChangeException("version", "must be v1");
		}
		if (!(config.get("sharing") instanceof Map<?, ?> sharing)) {
			throw new InvalidClusterChangeException("sharing", "has no sharing section");
		}
		boolean timeSlicing = sharing.get("timeSlicing") != null;
		boolean mps = sharing.get("mps") != null;
		if (timeSlicing == mps) {
			throw new InvalidClusterChangeException("sharing", "must hold exactly one of timeSlicing or mps");
		}
		if (!((mps ? sharing.get("mps") : sharing.get("timeSlicing")) instanceof Map<?, ?> replicated)) {
			throw new InvalidClusterChangeException("sharing", "is not a map");
		}
		if (!(replicated.get("resources") instanceof List<?> resources) || resources.size() != 1
				|| !(resources.get(0) instanceof Map<?, ?> resource)) {
			throw new InvalidClusterChangeException("resources", "must list exactly one resource");
		}
		Object replicas = resource.get("replicas");
		return new SharingProfile(name, mps ? MPS : TIME_SLICING, (replicas instanceof Number n) ? n.intValue() : 0,
				(resource.get("name") != null) ? resource.get("name").toString() : null,
				Boolean.TRUE.equals(replicated.get("renameByDefault")),
				Boolean.TRUE.equals(replicated.get("failRequestsGreaterThanOne")),
				(resource.get("rename") != null) ? resource.get("rename").toString() : null, resource.get("devices"));
	}

}
