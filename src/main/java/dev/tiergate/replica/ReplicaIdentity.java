package dev.tiergate.replica;

import java.util.UUID;
import java.util.regex.Pattern;

/**
 * This replica's name: {@code tiergate.replica.id} when set, else the pod's name (the
 * {@code HOSTNAME} that Kubernetes gives every container), else a random one. A random
 * suffix is appended to a configured or host name so that a restarted pod with the same
 * name (a StatefulSet, a test that starts two contexts in one JVM) is a new replica.
 *
 * @param name the name this process goes by, unique per process start
 */
public record ReplicaIdentity(String name) {

	private static final Pattern VALID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");

	public ReplicaIdentity {
		if (name == null || !VALID.matcher(name).matches()) {
			throw new IllegalArgumentException(
					"A replica name is 1 to 63 letters, digits, '.', '_' or '-', got '" + name + "'");
		}
	}

	/**
	 * The identity of this process start.
	 * @param configured {@code tiergate.replica.id}, or {@code null} or blank
	 * @param hostname the {@code HOSTNAME} environment variable, or {@code null}
	 * @return the identity: the configured or host name with a short random suffix
	 */
	public static ReplicaIdentity of(String configured, String hostname) {
		String base = (configured != null && !configured.isBlank()) ? configured.strip()
				: (hostname != null && !hostname.isBlank()) ? hostname.strip() : "tiergate";
		String suffix = UUID.randomUUID().toString().substring(0, 8);
		if (base.length() > 54) {
			base = base.substring(0, 54);
		}
		return new ReplicaIdentity(base + "-" + suffix);
	}

	@Override
	public String toString() {
		return this.name;
	}

}
