package dev.tiergate.cluster.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.tiergate.cluster.InvalidClusterChangeException;

/**
 * A Kubernetes label selector evaluated here, so that what Tiergate labels does not
 * depend on whether an API server honours set-based selectors: {@code k=v}, {@code k==v},
 * {@code k!=v}, {@code k}, {@code !k}, {@code k in (a,b)}, {@code k notin (a,b)}, joined
 * by commas.
 */
final class LabelSelector implements Predicate<Map<String, String>> {

	private static final Pattern KEY = Pattern.compile("([A-Za-z0-9][-A-Za-z0-9_./]*)");

	private static final Pattern SET = Pattern.compile(KEY.pattern() + "\\s+(in|notin)\\s+\\(([^)]*)\\)");

	private static final Pattern EQUALITY = Pattern.compile(KEY.pattern() + "\\s*(==|!=|=)\\s*([-A-Za-z0-9_.]*)");

	private final List<Predicate<Map<String, String>>> requirements;

	private LabelSelector(List<Predicate<Map<String, String>>> requirements) {
		this.requirements = requirements;
	}

	static LabelSelector parse(String selector, String field) {
		List<Predicate<Map<String, String>>> requirements = new ArrayList<>();
		for (String part : split(selector)) {
			String requirement = part.strip();
			if (requirement.isEmpty()) {
				continue;
			}
			Matcher set = SET.matcher(requirement);
			Matcher equality = EQUALITY.matcher(requirement);
			if (set.matches()) {
				String key = set.group(1);
				Set<String> values = Set
					.copyOf(List.of(set.group(3).split("\\s*,\\s*")).stream().map(String::strip).toList());
				boolean in = set.group(2).equals("in");
				requirements.add((labels) -> in == (labels.containsKey(key) && values.contains(labels.get(key))));
			}
			else if (equality.matches()) {
				String key = equality.group(1);
				String value = equality.group(3);
				boolean equal = !equality.group(2).equals("!=");
				requirements.add((labels) -> equal == value.equals(labels.get(key)));
			}
			else if (requirement.startsWith("!") && KEY.matcher(requirement.substring(1).strip()).matches()) {
				String key = requirement.substring(1).strip();
				requirements.add((labels) -> !labels.containsKey(key));
			}
			else if (KEY.matcher(requirement).matches()) {
				requirements.add((labels) -> labels.containsKey(requirement));
			}
			else {
				throw new InvalidClusterChangeException(field, "is not a label selector: '" + requirement + "'");
			}
		}
		return new LabelSelector(requirements);
	}

	private static List<String> split(String selector) {
		List<String> parts = new ArrayList<>();
		int depth = 0;
		StringBuilder current = new StringBuilder();
		for (char c : selector.toCharArray()) {
			if (c == '(') {
				depth++;
			}
			else if (c == ')') {
				depth--;
			}
			if (c == ',' && depth == 0) {
				parts.add(current.toString());
				current.setLength(0);
			}
			else {
				current.append(c);
			}
		}
		parts.add(current.toString());
		return parts;
	}

	boolean isEmpty() {
		return this.requirements.isEmpty();
	}

	@Override
	public boolean test(Map<String, String> labels) {
		Map<String, String> present = (labels != null) ? labels : Map.of();
		return this.requirements.stream().allMatch((r) -> r.test(present));
	}

}
