package dev.tiergate.deploy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import com.marcnuri.helm.Helm;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for Tiergate's alerting rules
 * ({@code charts/tiergate/alerts/tiergate-rules.yaml}) and their PrometheusRule in the
 * chart.
 */
class AlertRulesTests {

	static final Path RULES = Path.of("charts/tiergate/alerts/tiergate-rules.yaml");

	private static final Path RULE_TESTS = Path.of("charts/tiergate/alerts/tests/tiergate-rules.test.yaml");

	private static final Path RUNBOOK = Path.of("docs/runbook.md");

	@Test
	void rulesPassPromtoolCheckRules() throws Exception {
		Promtool.Result result = Promtool.run(null, "check", "rules", RULES.toString());
		assertThat(result.exitCode()).as(result.output()).isZero();
		assertThat(result.output()).contains("SUCCESS: " + alerts().size() + " rules found");
	}

	@Test
	void rulesPassTheirPromtoolUnitTests() throws Exception {
		Promtool.Result result = Promtool.run(null, "test", "rules", RULE_TESTS.toString());
		assertThat(result.exitCode()).as(result.output()).isZero();
	}

	@Test
	void everyAlertIsUnitTestedAndHasARunbookSection() throws IOException {
		String tests = Files.readString(RULE_TESTS);
		String runbook = Files.readString(RUNBOOK);
		assertThat(alerts()).isNotEmpty().allSatisfy((name, rule) -> {
			assertThat(tests).as("unit tests of " + name).contains("alertname: " + name);
			assertThat(runbook).as("runbook section of " + name).contains("\n## " + name + "\n");
			@SuppressWarnings("unchecked")
			Map<String, String> annotations = (Map<String, String>) rule.get("annotations");
			assertThat(annotations.get("runbook")).isEqualTo("docs/runbook.md#" + name.toLowerCase());
			assertThat(annotations).containsKeys("summary", "description");
			@SuppressWarnings("unchecked")
			Map<String, String> labels = (Map<String, String>) rule.get("labels");
			assertThat(labels.get("severity")).isIn("critical", "warning");
		});
	}

	@Test
	void prometheusRuleIsOffByDefaultAndEmbedsTheRuleFileUnchanged() throws IOException {
		assertThat(template(Map.of())).doesNotContain("kind: PrometheusRule");
		String rendered = template(Map.of("prometheusRule.enabled", "true", "prometheusRule.labels.release", "kps"));
		Map<String, Object> rule = null;
		for (Object document : yaml().loadAll(rendered)) {
			if (document instanceof Map<?, ?> map && "PrometheusRule".equals(map.get("kind"))) {
				@SuppressWarnings("unchecked")
				Map<String, Object> typed = (Map<String, Object>) map;
				rule = typed;
			}
		}
		assertThat(rule).isNotNull();
		assertThat(rule).containsEntry("apiVersion", "monitoring.coreos.com/v1");
		@SuppressWarnings("unchecked")
		Map<String, Object> labels = (Map<String, Object>) ((Map<String, Object>) rule.get("metadata")).get("labels");
		assertThat(labels).containsEntry("release", "kps");
		Map<String, Object> file = yaml().load(Files.readString(RULES));
		assertThat(rule.get("spec")).isEqualTo(file);
	}

	/**
	 * Every metric name the rules read, for {@link MonitoringIntegrationTests}.
	 * @return the names
	 */
	static Set<String> metricNames() throws IOException {
		Set<String> names = new TreeSet<>();
		alerts().values().forEach((rule) -> names.addAll(PromQl.metricNames((String) rule.get("expr"))));
		return names;
	}

	@SuppressWarnings("unchecked")
	static Map<String, Map<String, Object>> alerts() throws IOException {
		Map<String, Object> file = yaml().load(Files.readString(RULES));
		Map<String, Map<String, Object>> alerts = new LinkedHashMap<>();
		for (Map<String, Object> group : (List<Map<String, Object>>) file.get("groups")) {
			for (Map<String, Object> rule : (List<Map<String, Object>>) group.get("rules")) {
				alerts.put((String) rule.get("alert"), rule);
			}
		}
		return alerts;
	}

	private static String template(Map<String, String> values) {
		var template = new Helm(Path.of("charts/tiergate")).template().withName("tg").withKubeVersion("1.33.0");
		// The chart requires the watched namespaces to be chosen.
		template.set("cluster.namespaces[0]", "ml");
		values.forEach(template::set);
		return template.call();
	}

	private static Yaml yaml() {
		return new Yaml(new SafeConstructor(new LoaderOptions()));
	}

	static List<String> missingFrom(String exposition, Set<String> names) {
		List<String> missing = new ArrayList<>();
		for (String name : names) {
			if (exposition.lines().noneMatch((line) -> line.startsWith(name + "{") || line.startsWith(name + " "))) {
				missing.add(name);
			}
		}
		return missing;
	}

}
