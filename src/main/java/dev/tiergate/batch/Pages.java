package dev.tiergate.batch;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * OpenAI's cursor pages: {@code {"object":"list","data":[...],"first_id","last_id",
 * "has_more"}}, the items after the one named by {@code after}.
 */
final class Pages {

	private Pages() {
	}

	static <T> Map<String, Object> page(List<T> items, Function<T, String> id, String after, int limit,
			Function<T, Map<String, Object>> view) {
		return page(items, id, after, limit, view, false);
	}

	/**
	 * A page of items.
	 * @param items all items (or those from the page's start on)
	 * @param id an item's id
	 * @param after the id of the item before the page, or {@code null}
	 * @param limit most items on the page
	 * @param view an item's JSON
	 * @param moreBeyond whether items follow those given
	 * @return the page
	 */
	static <T> Map<String, Object> page(List<T> items, Function<T, String> id, String after, int limit,
			Function<T, Map<String, Object>> view, boolean moreBeyond) {
		int start = 0;
		if (after != null && !after.isBlank()) {
			start = items.size();
			for (int i = 0; i < items.size(); i++) {
				if (id.apply(items.get(i)).equals(after)) {
					start = i + 1;
					break;
				}
			}
		}
		int end = Math.min(items.size(), start + limit);
		List<Map<String, Object>> data = new ArrayList<>();
		for (int i = start; i < end; i++) {
			data.add(view.apply(items.get(i)));
		}
		Map<String, Object> page = new LinkedHashMap<>();
		page.put("object", "list");
		page.put("data", data);
		page.put("first_id", data.isEmpty() ? null : data.get(0).get("id"));
		page.put("last_id", data.isEmpty() ? null : data.get(data.size() - 1).get("id"));
		page.put("has_more", end < items.size() || moreBeyond);
		return page;
	}

}
