package dev.tiergate;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaMethod;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.methods;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for the module boundaries that {@code ARCHITECTURE.md} draws: which feature may
 * use which, no reaching into another feature's {@code internal} package, and Kubernetes
 * types only where the cluster is read.
 */
class ModuleBoundariesTests {

	/**
	 * Each module and the modules it may use (besides itself and the shared ones). No
	 * module but {@code web} uses {@code web}.
	 */
	static final Map<String, Set<String>> ALLOWED = new LinkedHashMap<>();

	static {
		ALLOWED.put("problem", Set.of());
		ALLOWED.put("replica", Set.of());
		ALLOWED.put("audit", Set.of());
		ALLOWED.put("tier", Set.of("audit"));
		ALLOWED.put("cluster", Set.of("tier", "audit"));
		ALLOWED.put("routing", Set.of("cluster"));
		ALLOWED.put("dispatch", Set.of("tier", "routing"));
		ALLOWED.put("quota", Set.of("tier", "audit"));
		ALLOWED.put("requestlog", Set.of("tier"));
		ALLOWED.put("spill", Set.of("tier", "cost", "audit", "quota"));
		ALLOWED.put("proxy", Set.of("tier", "dispatch", "quota", "routing", "requestlog", "spill"));
		ALLOWED.put("batch", Set.of("tier", "dispatch", "quota", "proxy", "routing", "audit", "requestlog", "spill"));
		ALLOWED.put("cost", Set.of("tier", "dispatch", "routing"));
		ALLOWED.put("metering", Set.of("tier", "cluster", "routing", "dispatch", "quota", "cost"));
		ALLOWED.put("replicas", Set.of("tier", "routing", "dispatch"));
		ALLOWED.put("security", Set.of("quota", "audit"));
		ALLOWED.put("web", Set.of("tier", "cluster", "routing", "dispatch", "quota", "proxy", "batch", "cost",
				"security", "audit", "requestlog", "spill", "metering", "replicas"));
	}

	private static JavaClasses classes;

	@BeforeAll
	static void importClasses() {
		classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
			.importPackages("dev.tiergate");
	}

	/** Modules every module may use. */
	static final Set<String> SHARED = Set.of("problem", "replica");

	@Test
	void modulesUseOnlyTheModulesTheyMayUse() {
		for (Map.Entry<String, Set<String>> entry : ALLOWED.entrySet()) {
			String module = entry.getKey();
			String[] forbidden = ALLOWED.keySet()
				.stream()
				.filter((other) -> !other.equals(module) && !entry.getValue().contains(other)
						&& !SHARED.contains(other))
				.map((other) -> "dev.tiergate." + other + "..")
				.toArray(String[]::new);
			if (forbidden.length > 0) {
				noClasses().that()
					.resideInAPackage("dev.tiergate." + module + "..")
					.should()
					.dependOnClassesThat()
					.resideInAnyPackage(forbidden)
					.allowEmptyShould(true)
					.because(module + " may use only " + entry.getValue())
					.check(classes);
			}
		}
	}

	@Test
	void noModuleReachesIntoAnotherModulesInternals() {
		for (String module : ALLOWED.keySet()) {
			noClasses().that()
				.resideOutsideOfPackage("dev.tiergate." + module + "..")
				.should()
				.dependOnClassesThat()
				.resideInAPackage("dev.tiergate." + module + ".internal..")
				.allowEmptyShould(true)
				.check(classes);
		}
	}

	@Test
	void kubernetesTypesStayInClusterAndRouting() {
		noClasses().that()
			.resideOutsideOfPackages("dev.tiergate.cluster..", "dev.tiergate.routing..")
			.should()
			.dependOnClassesThat()
			.resideInAPackage("io.kubernetes..")
			.check(classes);
	}

	/**
	 * The proxy's methods pass a request's parts in records ({@code ExchangeRequest},
	 * {@code ExchangeResult}) rather than in long parameter lists or out-parameters.
	 * Constructors (injection) and the compiler's synthetic methods are not counted.
	 */
	@Test
	void proxyMethodsTakeAtMostFiveParameters() {
		methods().that()
			.areDeclaredInClassesThat()
			.resideInAPackage("dev.tiergate.proxy..")
			.and()
			.doNotHaveModifier(JavaModifier.SYNTHETIC)
			.should(new ArchCondition<JavaMethod>("take at most 5 parameters") {
				@Override
				public void check(JavaMethod method, ConditionEvents events) {
					int count = method.getRawParameterTypes().size();
					if (count > 5) {
						events.add(SimpleConditionEvent.violated(method,
								method.getFullName() + " takes " + count + " parameters"));
					}
				}
			})
			.check(classes);
	}

	@Test
	void everyModuleIsKnown() {
		Set<String> found = new TreeSet<>();
		classes.forEach((c) -> {
			String[] parts = c.getPackageName().split("\\.");
			if (parts.length > 2) {
				found.add(parts[2]);
			}
		});
		assertThat(ALLOWED.keySet()).as("every top-level package under dev.tiergate is a module listed here")
			.containsAll(found);
	}

}
