package dev.tiergate.cluster;

import java.util.Map;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

import jakarta.validation.constraints.NotBlank;

/**
 * Where the NVIDIA device plugin's sharing configuration lives; the defaults follow the
 * GPU Operator.
 *
 * @param namespace namespace of the device plugin's ConfigMap and DaemonSet
 * @param configMap name of the ConfigMap holding one device plugin config per key (the
 * GPU Operator's {@code ClusterPolicy} must name it in
 * {@code spec.devicePlugin.config.name})
 * @param daemonSet name of the device plugin DaemonSet, restarted after a change because
 * the GPU Operator does not watch the ConfigMap
 * @param nodeLabel node label whose value selects a node's config key
 * @param restartAnnotation pod template annotation set to the time of a restart
 * @param modelMemory memory footprint of each model (weights and KV cache), e.g.
 * {@code tiergate.sharing.model-memory.llama-3.1-8b-instruct=20GB}; a profile whose
 * per-replica memory is below the footprint of a model running on its nodes gets a
 * warning
 */
@Validated
@ConfigurationProperties("tiergate.sharing")
public record SharingProperties(@DefaultValue("gpu-operator") @NotBlank String namespace,
		@DefaultValue("device-plugin-config") @NotBlank String configMap,
		@DefaultValue("nvidia-device-plugin-daemonset") @NotBlank String daemonSet,
		@DefaultValue("nvidia.com/device-plugin.config") @NotBlank String nodeLabel,
		@DefaultValue("tiergate.dev/restartedAt") @NotBlank String restartAnnotation,
		@DefaultValue Map<String, DataSize> modelMemory) {

}
