package dev.tiergate.routing;

/**
 * What an endpoint's {@code /metrics} said at one scrape (vLLM's gauges, summed over
 * engines).
 *
 * @param waiting {@code vllm:num_requests_waiting}
 * @param running {@code vllm:num_requests_running}
 * @param kvCacheUsage {@code vllm:gpu_cache_usage_perc} or
 * {@code vllm:kv_cache_usage_perc} (0..1)
 * @param scrapedAtNanos when, in epoch nanoseconds of the injected clock
 * @param inFlightAtScrape this replica's requests in flight on the endpoint at that
 * moment, so that requests sent since can be added to what the scrape saw
 */
public record EndpointMetrics(double waiting, double running, double kvCacheUsage, long scrapedAtNanos,
		int inFlightAtScrape) {

	/**
	 * Age of the scrape.
	 * @param nowNanos the time, epoch nanoseconds
	 * @return nanoseconds since the scrape
	 */
	public long ageNanos(long nowNanos) {
		return nowNanos - this.scrapedAtNanos;
	}

}
