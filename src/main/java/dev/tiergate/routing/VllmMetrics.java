package dev.tiergate.routing;

import java.util.Set;

/**
 * Reads the gauges the balancing needs from vLLM's Prometheus text exposition:
 * {@code vllm:num_requests_waiting} and {@code vllm:num_requests_running} (summed over
 * series, e.g. several engines), and {@code vllm:gpu_cache_usage_perc} or its newer name
 * {@code vllm:kv_cache_usage_perc} (the highest value).
 */
final class VllmMetrics {

	private static final Set<String> WANTED = Set.of("vllm:num_requests_waiting", "vllm:num_requests_running",
			"vllm:gpu_cache_usage_perc", "vllm:kv_cache_usage_perc");

	private VllmMetrics() {
	}

	/**
	 * Parses a scrape.
	 * @param text the exposition
	 * @param nowNanos when it was scraped
	 * @param inFlight this replica's requests in flight at that moment
	 * @return the metrics
	 * @throws IllegalArgumentException when neither queue gauge is present
	 */
	static EndpointMetrics parse(String text, long nowNanos, int inFlight) {
		double waiting = 0;
		double running = 0;
		double cache = 0;
		boolean sawQueue = false;
		for (String line : text.split("\n")) {
			if (line.isEmpty() || line.charAt(0) == '#') {
				continue;
			}
			int nameEnd = 0;
			while (nameEnd < line.length() && line.charAt(nameEnd) != '{' && line.charAt(nameEnd) != ' ') {
				nameEnd++;
			}
			String name = line.substring(0, nameEnd);
			if (!WANTED.contains(name)) {
				// most of a vLLM exposition: histograms' buckets and other series
				continue;
			}
			int valueStart = nameEnd;
			if (valueStart < line.length() && line.charAt(valueStart) == '{') {
				valueStart = endOfLabels(line, valueStart);
			}
			double value;
			try {
				value = Double.parseDouble(firstWord(line, valueStart));
			}
			catch (NumberFormatException ex) {
				continue;
			}
			if (Double.isNaN(value)) {
				continue;
			}
			switch (name) {
				case "vllm:num_requests_waiting" -> {
					waiting += value;
					sawQueue = true;
				}
				case "vllm:num_requests_running" -> {
					running += value;
					sawQueue = true;
				}
				case "vllm:gpu_cache_usage_perc", "vllm:kv_cache_usage_perc" -> cache = Math.max(cache, value);
				default -> {
				}
			}
		}
		if (!sawQueue) {
			throw new IllegalArgumentException("no vllm:num_requests_waiting or vllm:num_requests_running");
		}
		return new EndpointMetrics(waiting, running, cache, nowNanos, inFlight);
	}

	/**
	 * The sample's value: the first word after the name and labels (a timestamp may
	 * follow), without a regular expression (a scrape is every endpoint's whole
	 * exposition, every few seconds).
	 */
	private static String firstWord(String line, int from) {
		int start = from;
		while (start < line.length() && line.charAt(start) <= ' ') {
			start++;
		}
		int end = start;
		while (end < line.length() && line.charAt(end) > ' ') {
			end++;
		}
		return line.substring(start, end);
	}

	/**
	 * Index just after the closing brace of a label set, honouring quoted values with
	 * escapes.
	 */
	private static int endOfLabels(String line, int open) {
		boolean quoted = false;
		for (int i = open + 1; i < line.length(); i++) {
			char c = line.charAt(i);
			if (quoted) {
				if (c == '\\') {
					i++;
				}
				else if (c == '"') {
					quoted = false;
				}
			}
			else if (c == '"') {
				quoted = true;
			}
			else if (c == '}') {
				return i + 1;
			}
		}
		return line.length();
	}

}
