package dev.tiergate.cluster;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Positive;

/**
 * How the NVIDIA DCGM exporters (which measure each GPU) are found: pods with a label in
 * one namespace, watched by an informer. The defaults follow the GPU Operator.
 *
 * @param enabled whether exporters are discovered (and so scraped by metering)
 * @param namespace the namespace of the exporter pods (the GPU Operator's); empty means
 * every namespace (which needs cluster-wide pod reads)
 * @param labelSelector equality label selector of the exporter pods
 * ({@code key=value[,key=value]})
 * @param port the port scraped when the pod has no container port named {@code metrics}
 * @param path the path of the exposition
 */
@Validated
@ConfigurationProperties("tiergate.cluster.gpu-exporters")
public record GpuExporterProperties(@DefaultValue("true") boolean enabled,
		@DefaultValue("gpu-operator") String namespace,
		@DefaultValue("app=nvidia-dcgm-exporter") @NotBlank @Pattern(
				regexp = "[A-Za-z0-9._/-]+=[A-Za-z0-9._-]*(,[A-Za-z0-9._/-]+=[A-Za-z0-9._-]*)*",
				message = "must be key=value pairs separated by commas") String labelSelector,
		@DefaultValue("9400") @Positive int port, @DefaultValue("/metrics") @Pattern(regexp = "/.*") String path) {

}
