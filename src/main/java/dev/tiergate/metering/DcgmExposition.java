package dev.tiergate.metering;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads per-GPU figures from the NVIDIA DCGM exporter's Prometheus text exposition
 * ({@code /metrics} on port 9400): {@code DCGM_FI_DEV_GPU_UTIL} (percent),
 * {@code DCGM_FI_PROF_GR_ENGINE_ACTIVE} (a ratio, only where profiling metrics are on),
 * {@code DCGM_FI_DEV_FB_USED} and {@code DCGM_FI_DEV_FB_FREE} (MiB), one series per GPU
 * told apart by the labels {@code Hostname}, {@code gpu} and {@code UUID} (a shared GPU
 * has one series per pod on it, with the same figures, when the exporter maps pods).
 * Other series and unparsable lines are skipped.
 */
public final class DcgmExposition {

	static final String GPU_UTIL = "DCGM_FI_DEV_GPU_UTIL";

	static final String GR_ENGINE_ACTIVE = "DCGM_FI_PROF_GR_ENGINE_ACTIVE";

	static final String FB_USED = "DCGM_FI_DEV_FB_USED";

	static final String FB_FREE = "DCGM_FI_DEV_FB_FREE";

	private DcgmExposition() {
	}

	/**
	 * Parses a scrape.
	 * @param text the exposition
	 * @return one sample per GPU, in the order the GPUs first appear
	 * @throws IllegalArgumentException when no GPU has {@code DCGM_FI_DEV_GPU_UTIL}
	 */
	public static List<GpuSample> parse(String text) {
		Map<String, double[]> values = new LinkedHashMap<>();
		Map<String, Map<String, String>> labelsOf = new HashMap<>();
		Map<String, Set<String>> podsOf = new HashMap<>();
		for (String line : text.split("\n")) {
			if (line.isEmpty() || line.charAt(0) == '#' || !line.startsWith("DCGM_FI_")) {
				continue;
			}
			int brace = line.indexOf('{');
			int space = line.indexOf(' ');
			int nameEnd = (brace >= 0 && (space < 0 || brace < space)) ? brace : space;
			if (nameEnd < 0) {
				continue;
			}
			int index = switch (line.substring(0, nameEnd)) {
				case GPU_UTIL -> 0;
				case GR_ENGINE_ACTIVE -> 1;
				case FB_USED -> 2;
				case FB_FREE -> 3;
				default -> -1;
			};
			if (index < 0) {
				continue;
			}
			Map<String, String> labels = new HashMap<>();
			int valueStart = (nameEnd == brace) ? labels(line, brace, labels) : nameEnd;
			String[] rest = line.substring(valueStart).trim().split("\\s+");
			double value;
			try {
				value = Double.parseDouble(rest[0]);
			}
			catch (NumberFormatException | ArrayIndexOutOfBoundsException ex) {
				continue;
			}
			String gpu = labels.getOrDefault("gpu", "");
			String host = labels.getOrDefault("Hostname", "");
			String key = host + "/" + gpu + "/" + labels.getOrDefault("UUID", "");
			labelsOf.putIfAbsent(key, labels);
			Set<String> pods = podsOf.computeIfAbsent(key, (k) -> new TreeSet<>());
			String pod = labels.getOrDefault("pod", "");
			if (!pod.isEmpty()) {
				pods.add(labels.getOrDefault("namespace", "") + "/" + pod);
			}
			values.computeIfAbsent(key,
					(k) -> new double[] { Double.NaN, Double.NaN, Double.NaN, Double.NaN })[index] = value;
		}
		List<GpuSample> samples = new ArrayList<>();
		values.forEach((key, v) -> {
			if (!Double.isNaN(v[0])) {
				Map<String, String> labels = labelsOf.get(key);
				samples.add(new GpuSample(labels.getOrDefault("Hostname", ""), labels.getOrDefault("gpu", ""),
						labels.getOrDefault("UUID", ""), labels.getOrDefault("modelName", ""), v[0], v[1], v[2], v[3],
						List.copyOf(podsOf.get(key))));
			}
		});
		if (samples.isEmpty()) {
			throw new IllegalArgumentException("no " + GPU_UTIL + " series");
		}
		return samples;
	}

	/** Reads a label set into a map; returns the index just after its closing brace. */
	private static int labels(String line, int open, Map<String, String> into) {
		int i = open + 1;
		while (i < line.length()) {
			char c = line.charAt(i);
			if (c == '}') {
				return i + 1;
			}
			if (c == ',' || c == ' ') {
				i++;
				continue;
			}
			int eq = line.indexOf('=', i);
			if (eq < 0 || eq + 1 >= line.length() || line.charAt(eq + 1) != '"') {
				return line.length();
			}
			String name = line.substring(i, eq);
			StringBuilder value = new StringBuilder();
			int j = eq + 2;
			while (j < line.length() && line.charAt(j) != '"') {
				char v = line.charAt(j);
				if (v == '\\' && j + 1 < line.length()) {
					char next = line.charAt(++j);
					value.append((next == 'n') ? '\n' : next);
				}
				else {
					value.append(v);
				}
				j++;
			}
			into.put(name, value.toString());
			i = j + 1;
		}
		return line.length();
	}

	/**
	 * One GPU's figures in one scrape.
	 *
	 * @param hostname the node ({@code Hostname} label)
	 * @param gpu the GPU's index on its node ({@code gpu} label)
	 * @param uuid the GPU's UUID
	 * @param product the GPU's model name ({@code modelName} label), or {@code ""}
	 * @param utilization {@code DCGM_FI_DEV_GPU_UTIL}: percent of the sample period a
	 * kernel ran
	 * @param graphicsEngineActive {@code DCGM_FI_PROF_GR_ENGINE_ACTIVE} (0 to 1), or NaN
	 * when the exporter does not collect profiling metrics
	 * @param framebufferUsedMiB {@code DCGM_FI_DEV_FB_USED}, or NaN
	 * @param framebufferFreeMiB {@code DCGM_FI_DEV_FB_FREE}, or NaN
	 * @param pods the pods ({@code namespace/name}) the exporter's Kubernetes mapping
	 * names on this GPU (labels {@code namespace} and {@code pod}, one series per pod on
	 * a shared GPU), sorted; empty when it names none
	 */
	public record GpuSample(String hostname, String gpu, String uuid, String product, double utilization,
			double graphicsEngineActive, double framebufferUsedMiB, double framebufferFreeMiB, List<String> pods) {

		/**
		 * One GPU's figures without pods.
		 * @param hostname the node
		 * @param gpu the GPU's index
		 * @param uuid its UUID
		 * @param product its model name
		 * @param utilization percent
		 * @param graphicsEngineActive 0 to 1, or NaN
		 * @param framebufferUsedMiB MiB, or NaN
		 * @param framebufferFreeMiB MiB, or NaN
		 */
		public GpuSample(String hostname, String gpu, String uuid, String product, double utilization,
				double graphicsEngineActive, double framebufferUsedMiB, double framebufferFreeMiB) {
			this(hostname, gpu, uuid, product, utilization, graphicsEngineActive, framebufferUsedMiB,
					framebufferFreeMiB, List.of());
		}

		/**
		 * The busy fraction: the graphics engine's activity where collected (it counts
		 * partial occupancy, as MPS gives), else utilization over 100.
		 * @return 0 to 1
		 */
		public double busy() {
			return Double.isNaN(this.graphicsEngineActive) ? this.utilization / 100 : this.graphicsEngineActive;
		}

	}

}
