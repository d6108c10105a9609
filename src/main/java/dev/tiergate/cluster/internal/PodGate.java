package dev.tiergate.cluster.internal;

import java.util.Map;

import io.kubernetes.client.openapi.models.V1ObjectMeta;

/**
 * The optional second gate before a pod receives prompts: a label and/or an annotation
 * ({@code key} for presence, {@code key=value} for that value) that only the platform
 * team can set, on top of the model label anyone who may create pods can set.
 *
 * @param labelKey required label, or empty
 * @param labelValue its required value, or {@code null} for any
 * @param annotationKey required annotation, or empty
 * @param annotationValue its required value, or {@code null} for any
 */
record PodGate(String labelKey, String labelValue, String annotationKey, String annotationValue) {

	/** No gate: every labelled pod passes. */
	static final PodGate NONE = new PodGate("", null, "", null);

	/**
	 * A gate from settings.
	 * @param label {@code key}, {@code key=value} or empty
	 * @param annotation {@code key}, {@code key=value} or empty
	 * @return the gate
	 */
	static PodGate of(String label, String annotation) {
		String[] l = split(label);
		String[] a = split(annotation);
		return new PodGate(l[0], l[1], a[0], a[1]);
	}

	private static String[] split(String setting) {
		if (setting == null || setting.isBlank()) {
			return new String[] { "", null };
		}
		int eq = setting.indexOf('=');
		return (eq < 0) ? new String[] { setting.strip(), null }
				: new String[] { setting.substring(0, eq).strip(), setting.substring(eq + 1).strip() };
	}

	/**
	 * Whether a pod passes.
	 * @param meta the pod's metadata
	 * @return {@code true} when it carries what is required
	 */
	boolean admits(V1ObjectMeta meta) {
		return matches((meta != null) ? meta.getLabels() : null, this.labelKey, this.labelValue)
				&& matches((meta != null) ? meta.getAnnotations() : null, this.annotationKey, this.annotationValue);
	}

	private static boolean matches(Map<String, String> values, String key, String value) {
		if (key.isEmpty()) {
			return true;
		}
		String actual = (values != null) ? values.get(key) : null;
		return actual != null && (value == null || value.equals(actual));
	}

	/**
	 * What is required, for messages.
	 * @return e.g. {@code label platform.example/approved=true}
	 */
	String describe() {
		StringBuilder text = new StringBuilder();
		if (!this.labelKey.isEmpty()) {
			text.append("label ").append(this.labelKey).append((this.labelValue != null) ? "=" + this.labelValue : "");
		}
		if (!this.annotationKey.isEmpty()) {
			text.append(text.isEmpty() ? "" : " and ")
				.append("annotation ")
				.append(this.annotationKey)
				.append((this.annotationValue != null) ? "=" + this.annotationValue : "");
		}
		return text.toString();
	}

}
