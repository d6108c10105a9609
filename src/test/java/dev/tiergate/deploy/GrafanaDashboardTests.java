package dev.tiergate.deploy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.marcnuri.helm.Helm;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for Tiergate's Grafana dashboard
 * ({@code charts/tiergate/dashboards/tiergate.json}) and its ConfigMap in the chart.
 */
class GrafanaDashboardTests {

	static final Path DASHBOARD = Path.of("charts/tiergate/dashboards/tiergate.json");

	private static final Pattern LABEL_VALUES = Pattern.compile("label_values\\(\\s*([a-zA-Z_:][a-zA-Z0-9_:]*)");

	@Test
	void everyPanelButRowsQueriesPrometheusAndTheBoardCoversTheIssuesList() throws IOException {
		JsonNode dashboard = dashboard();
		List<String> titles = new ArrayList<>();
		for (JsonNode panel : dashboard.get("panels")) {
			if (!"row".equals(panel.get("type").asString())) {
				assertThat(panel.get("targets")).as(panel.get("title").asString()).isNotEmpty();
				titles.add(panel.get("title").asString());
			}
		}
		assertThat(titles).contains("Queue wait by tier (p50, p95, p99)", "Time to first byte by tier (p50, p95, p99)",
				"In flight by tier", "Preemptions by tier", "Rejections by reason", "Slots by state per pool",
				"Endpoints accepting requests", "Endpoint ejections", "Quota decisions", "Batch items by outcome",
				"Batch items waiting per pool");
		assertThat(metricNames()).isNotEmpty().allMatch((name) -> name.startsWith("tiergate_"));
	}

	@Test
	void configMapForGrafanasSidecarIsOffByDefaultAndCarriesTheFileUnchanged() throws IOException {
		assertThat(template(Map.of())).doesNotContain("grafana_dashboard");
		String rendered = template(
				Map.of("grafanaDashboard.enabled", "true", "grafanaDashboard.namespace", "monitoring"));
		Map<String, Object> configMap = null;
		for (Object document : new Yaml(new SafeConstructor(new LoaderOptions())).loadAll(rendered)) {
			if (document instanceof Map<?, ?> map && "ConfigMap".equals(map.get("kind"))) {
				@SuppressWarnings("unchecked")
				Map<String, Object> typed = (Map<String, Object>) map;
				configMap = typed;
			}
		}
		assertThat(configMap).isNotNull();
		@SuppressWarnings("unchecked")
		Map<String, Object> metadata = (Map<String, Object>) configMap.get("metadata");
		assertThat(metadata).containsEntry("namespace", "monitoring");
		assertThat(metadata.get("labels")).asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.MAP)
			.containsEntry("grafana_dashboard", "1");
		@SuppressWarnings("unchecked")
		Map<String, String> data = (Map<String, String>) configMap.get("data");
		assertThat(JsonMapper.shared().readTree(data.get("tiergate.json"))).isEqualTo(dashboard());
	}

	/**
	 * Every metric name the dashboard's panels and variables query, for
	 * {@link MonitoringIntegrationTests}.
	 * @return the names
	 */
	static Set<String> metricNames() throws IOException {
		Set<String> names = new TreeSet<>();
		collect(dashboard(), names);
		return names;
	}

	private static void collect(JsonNode node, Set<String> names) {
		if (node.isObject()) {
			JsonNode expr = node.get("expr");
			if (expr != null && expr.isString()) {
				names.addAll(PromQl.metricNames(expr.asString()));
			}
			JsonNode definition = node.get("definition");
			if (definition != null && definition.isString()) {
				Matcher matcher = LABEL_VALUES.matcher(definition.asString());
				while (matcher.find()) {
					names.add(matcher.group(1));
				}
			}
			node.values().forEach((child) -> collect(child, names));
		}
		else if (node.isArray()) {
			node.forEach((child) -> collect(child, names));
		}
	}

	private static JsonNode dashboard() throws IOException {
		return JsonMapper.shared().readTree(Files.readString(DASHBOARD));
	}

	private static String template(Map<String, String> values) {
		var template = new Helm(Path.of("charts/tiergate")).template().withName("tg").withKubeVersion("1.33.0");
		// The chart requires the watched namespaces to be chosen.
		template.set("cluster.namespaces[0]", "ml");
		values.forEach(template::set);
		return template.call();
	}

}
