package dev.tiergate.deploy;

import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The metric names a PromQL expression reads, found well enough for Tiergate's own rules
 * and dashboard: label matchers, grouping clauses, strings and durations are removed, and
 * what remains is an identifier that is neither a function nor a keyword.
 */
final class PromQl {

	private static final Set<String> NOT_METRICS = Set.of("sum", "max", "min", "avg", "count", "rate", "irate",
			"increase", "delta", "histogram_quantile", "by", "without", "and", "or", "unless", "on", "ignoring",
			"group_left", "group_right", "bool", "offset", "clamp_min", "clamp_max", "abs", "topk", "bottomk",
			"label_replace", "vector", "scalar", "time", "sum_over_time", "max_over_time", "min_over_time",
			"avg_over_time", "round", "sort", "sort_desc", "absent");

	private static final Pattern IDENTIFIER = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");

	private PromQl() {
	}

	static Set<String> metricNames(String expression) {
		String stripped = expression.replaceAll("\"[^\"]*\"", "\"\"")
			.replaceAll("\\{[^}]*\\}", " ")
			.replaceAll("\\[[^]]*\\]", " ")
			.replaceAll("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ")
			.replaceAll("\\$[a-zA-Z_]+", " ");
		Set<String> names = new TreeSet<>();
		Matcher matcher = IDENTIFIER.matcher(stripped);
		while (matcher.find()) {
			String word = matcher.group();
			int end = matcher.end();
			boolean call = stripped.substring(end).stripLeading().startsWith("(");
			boolean numberPart = matcher.start() > 0 && Character.isDigit(stripped.charAt(matcher.start() - 1));
			if (!NOT_METRICS.contains(word) && !call && !numberPart) {
				names.add(word);
			}
		}
		return names;
	}

}
