package dev.tiergate.cluster;

import java.net.URI;

/**
 * One DCGM exporter pod (the GPU Operator's {@code nvidia-dcgm-exporter} DaemonSet: one
 * per GPU node), as metering needs to scrape it.
 *
 * @param namespace namespace
 * @param name pod name
 * @param nodeName the node whose GPUs it reports, or {@code ""} if not yet scheduled
 * @param podIp pod IP, or {@code ""} if none yet
 * @param port the container port named {@code metrics}, or the configured default (9400)
 * @param path the path of its exposition ({@code /metrics})
 * @param ready whether the pod's Ready condition is true
 * @param terminating whether the pod has a deletion timestamp
 */
public record GpuExporter(String namespace, String name, String nodeName, String podIp, int port, String path,
		boolean ready, boolean terminating) {

	/**
	 * The pod's stable key.
	 * @return {@code namespace/name}
	 */
	public String key() {
		return this.namespace + "/" + this.name;
	}

	/**
	 * Whether it can be scraped now.
	 * @return {@code true} when it is ready, not being deleted and has an address
	 */
	public boolean scrapable() {
		return this.ready && !this.terminating && !this.podIp.isEmpty() && this.port > 0;
	}

	/**
	 * Its exposition's address.
	 * @return {@code http://IP:PORT/metrics}
	 */
	public URI uri() {
		String host = this.podIp.contains(":") ? "[" + this.podIp + "]" : this.podIp;
		return URI.create("http://" + host + ":" + this.port + this.path);
	}

}
