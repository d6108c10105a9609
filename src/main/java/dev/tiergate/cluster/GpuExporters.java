package dev.tiergate.cluster;

import java.util.List;

/**
 * The DCGM exporter pods Tiergate knows of, kept up to date by an informer on
 * {@code tiergate.cluster.gpu-exporters}.
 */
public interface GpuExporters {

	/**
	 * The exporters, sorted by key; empty when discovery is off.
	 * @return a snapshot
	 */
	List<GpuExporter> exporters();

}
