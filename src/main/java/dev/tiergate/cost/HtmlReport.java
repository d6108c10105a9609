package dev.tiergate.cost;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

import org.webjars.WebJarVersionLocator;

/**
 * Writes a simulation report as one self-contained HTML file: Chart.js, the drawing
 * script of the dashboard page and the report's JSON are inlined, so the file opens
 * anywhere, offline.
 */
public final class HtmlReport {

	private HtmlReport() {
	}

	/**
	 * The report as HTML.
	 * @param report the report
	 * @return the page
	 */
	public static String render(SimulationReport report) {
		String chartJs = resource(
				new WebJarVersionLocator().fullPath("chart.js", "dist/chart.umd.min.js").replaceFirst("^/?", ""));
		String drawing = resource("static/js/simulation-report.js");
		String json = SimulationFiles.JSON.writeValueAsString(report);
		return """
				<!DOCTYPE html>
				<html lang="en">
				<head>
				<meta charset="utf-8">
				<title>Tiergate simulation: %s</title>
				<style>
				body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
				.sim-table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.9rem; }
				.sim-table th, .sim-table td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: right; }
				.sim-table th { background: #f4f4f4; text-align: left; }
				.sim-recommended td { background: #e8f8ee; font-weight: bold; }
				.sim-charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 1rem; }
				.sim-chart { margin: 0; }
				.sim-warning { color: #c0392b; }
				footer { margin-top: 2rem; font-size: 0.8rem; color: #666; }
				</style>
				<script>%s</script>
				<script>%s</script>
				</head>
				<body>
				<h1>Tiergate simulation report</h1>
				<div id="report"></div>
				<footer>Made by Tiergate's simulator (the dispatcher's PoolScheduler on a virtual clock, an engine model per endpoint).
				Azure traces: Patel et al., "Splitwise", ISCA 2024, Azure Public Dataset, CC-BY-4.0.</footer>
				<script id="report-data" type="application/json">%s</script>
				<script>
				TiergateSimulationReport.render(JSON.parse(document.getElementById('report-data').textContent),
					document.getElementById('report'));
				</script>
				</body>
				</html>
				"""
			.formatted(escapeHtml(report.trace()), inline(chartJs), inline(drawing), inline(json));
	}

	private static String inline(String script) {
		return script.replace("</", "<\\/");
	}

	private static String escapeHtml(String text) {
		return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
	}

	private static String resource(String path) {
		try (InputStream in = HtmlReport.class.getClassLoader().getResourceAsStream(path)) {
			if (in == null) {
				throw new IllegalStateException("Missing resource " + path);
			}
			return new String(in.readAllBytes(), StandardCharsets.UTF_8);
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

}
