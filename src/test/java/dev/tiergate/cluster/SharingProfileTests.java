package dev.tiergate.cluster;

import java.util.List;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Tests for {@link SharingProfile}: the device plugin's rules, the YAML it parses,
 * warnings.
 */
class SharingProfileTests {

	private static SharingProfile profile(String name, String strategy, int replicas, String resource) {
		return new SharingProfile(name, strategy, replicas, resource, false, true, null, null);
	}

	@Test
	void writesMpsConfigExactlyAsThePluginParsesIt() {
		assertThat(profile("mps-4", "mps", 4, null).toYaml()).isEqualTo("""
				version: v1
				sharing:
				  mps:
				    renameByDefault: false
				    failRequestsGreaterThanOne: true
				    resources:
				    - name: nvidia.com/gpu
				      replicas: 4
				""");
	}

	@Test
	void writesTimeSlicingUnderTimeSlicingKey() {
		assertThat(profile("ts-2", "time-slicing", 2, "nvidia.com/gpu").toYaml()).contains("""
				sharing:
				  timeSlicing:
				""");
	}

	@Test
	void readsBackWhatItWrites() {
		SharingProfile written = new SharingProfile("ts-3", "time-slicing", 3, "nvidia.com/gpu", true, false, null,
				null);
		assertThat(SharingProfile.fromYaml("ts-3", written.toYaml())).isEqualTo(written);
	}

	@ParameterizedTest(name = "{0}")
	@CsvSource(delimiter = '|', textBlock = """
			replicas below 2             | ts       | time-slicing | 1  | nvidia.com/gpu         | replicas
			replicas zero                | ts       | mps          | 0  | nvidia.com/gpu         | replicas
			MPS above 48                 | m        | mps          | 49 | nvidia.com/gpu         | replicas
			MPS on a MIG resource        | m        | mps          | 4  | nvidia.com/mig-1g.10gb | resource
			unknown resource             | ts       | time-slicing | 4  | amd.com/gpu            | resource
			unknown nvidia resource      | ts       | time-slicing | 4  | nvidia.com/gpus        | resource
			no strategy                  | x        |              | 4  | nvidia.com/gpu         | strategy
			both or another strategy     | x        | timeSlicing  | 4  | nvidia.com/gpu         | strategy
			name not a label value       | bad/name | mps          | 4  | nvidia.com/gpu         | name
			name empty                   | ''       | mps          | 4  | nvidia.com/gpu         | name
			""")
	void rejectsEachBrokenRuleNamingTheField(String rule, String name, String strategy, int replicas, String resource,
			String field) {
		assertThatExceptionOfType(InvalidClusterChangeException.class)
			.isThrownBy(() -> profile(name, strategy, replicas, resource).validate())
			.satisfies((ex) -> assertThat(ex.field()).isEqualTo(field));
	}

	@Test
	void acceptsTheLimits() {
		profile("m", "mps", 48, null).validate();
		profile("ts", "time-slicing", 2, "nvidia.com/mig-1g.10gb").validate();
		profile("ts", "time-slicing", 64, "nvidia.com/gpu").validate();
	}

	@Test
	void rejectsDevicesThePluginCannotParse() {
		assertThatExceptionOfType(InvalidClusterChangeException.class)
			.isThrownBy(() -> new SharingProfile("x", "mps", 2, null, false, true, null, "some").validate())
			.satisfies((ex) -> assertThat(ex.field()).isEqualTo("devices"));
	}

	@Test
	void yamlWithBothTimeSlicingAndMpsIsRejected() {
		String both = """
				version: v1
				sharing:
				  timeSlicing:
				    resources:
				    - name: nvidia.com/gpu
				      replicas: 2
				  mps:
				    resources:
				    - name: nvidia.com/gpu
				      replicas: 2
				""";
		assertThatExceptionOfType(InvalidClusterChangeException.class)
			.isThrownBy(() -> SharingProfile.fromYaml("both", both))
			.satisfies((ex) -> assertThat(ex.field()).isEqualTo("sharing"));
	}

	@Test
	void warnsAboutIgnoredFieldsAndManyReplicasWithoutBlocking() {
		SharingProfile profile = new SharingProfile("m", "mps", 12, null, false, true, "nvidia.com/gpu-small",
				List.of(0, 1));
		profile.validate();
		assertThat(profile.warnings()).hasSize(3)
			.anyMatch((w) -> w.startsWith("rename is set"))
			.anyMatch((w) -> w.startsWith("devices is set"))
			.anyMatch((w) -> w.startsWith("MPS replicas are not infinite"));
		assertThat(profile("m", "mps", 8, null).warnings()).isEmpty();
	}

}
