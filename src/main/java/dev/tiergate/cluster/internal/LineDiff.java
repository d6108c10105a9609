package dev.tiergate.cluster.internal;

import java.util.ArrayList;
import java.util.List;

/**
 * A line diff of two short texts (longest common subsequence), for previews.
 */
final class LineDiff {

	private LineDiff() {
	}

	static List<String> diff(String before, String after) {
		List<String> a = lines(before);
		List<String> b = lines(after);
		int[][] lcs = new int[a.size() + 1][b.size() + 1];
		for (int i = a.size() - 1; i >= 0; i--) {
			for (int j = b.size() - 1; j >= 0; j--) {
				lcs[i][j] = a.get(i).equals(b.get(j)) ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
			}
		}
		List<String> result = new ArrayList<>();
		int i = 0;
		int j = 0;
		while (i < a.size() && j < b.size()) {
			if (a.get(i).equals(b.get(j))) {
				result.add(" " + a.get(i++));
				j++;
			}
			else if (lcs[i + 1][j] >= lcs[i][j + 1]) {
				result.add("-" + a.get(i++));
			}
			else {
				result.add("+" + b.get(j++));
			}
		}
		while (i < a.size()) {
			result.add("-" + a.get(i++));
		}
		while (j < b.size()) {
			result.add("+" + b.get(j++));
		}
		return result;
	}

	private static List<String> lines(String text) {
		if (text == null || text.isEmpty()) {
			return List.of();
		}
		return text.lines().toList();
	}

}
