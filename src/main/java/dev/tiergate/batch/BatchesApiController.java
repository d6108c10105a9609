package dev.tiergate.batch;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import dev.tiergate.problem.OpenAiApi;
import dev.tiergate.quota.Tenant;
import tools.jackson.databind.JsonNode;

/**
 * OpenAI's Batch API: {@code POST /v1/batches}, {@code GET /v1/batches/{id}},
 * {@code GET /v1/batches} (the tenant's own, newest first, {@code after} and
 * {@code limit}), {@code POST /v1/batches/{id}/cancel}. Every batch belongs to the tenant
 * that created it; another tenant's is answered 404.
 */
@RestController
@OpenAiApi
class BatchesApiController {

	private static final int MAX_METADATA = 16;

	private final BatchService batches;

	BatchesApiController(BatchService batches) {
		this.batches = batches;
	}

	@PostMapping("/v1/batches")
	Map<String, Object> create(@RequestBody(required = false) JsonNode body, @AuthenticationPrincipal Tenant tenant) {
		if (body == null || !body.isObject()) {
			throw new BatchException(400, "invalid_json", null, "The request body must be a JSON object.");
		}
		String inputFileId = requiredText(body, "input_file_id");
		String endpoint = requiredText(body, "endpoint");
		if (!InputLines.URLS.contains(endpoint)) {
			throw BatchException.invalid("endpoint",
					"must be one of /v1/chat/completions, /v1/completions, /v1/embeddings (was '" + endpoint + "')");
		}
		String window = requiredText(body, "completion_window");
		if (!window.equals(BatchService.WINDOW)) {
			throw BatchException.invalid("completion_window", "must be \"24h\" (was '" + window + "')");
		}
		Map<String, String> metadata = metadata(body.get("metadata"));
		return view(
				this.batches.create(tenant, new BatchService.CreateRequest(inputFileId, endpoint, window, metadata)));
	}

	private static String requiredText(JsonNode body, String field) {
		JsonNode value = body.get(field);
		if (value == null || value.isNull()) {
			throw BatchException.invalid(field, "is required");
		}
		if (!value.isString() || value.asString().isBlank()) {
			throw BatchException.invalid(field, "must be a non-empty string");
		}
		return value.asString();
	}

	private static Map<String, String> metadata(JsonNode metadata) {
		Map<String, String> pairs = new LinkedHashMap<>();
		if (metadata == null || metadata.isNull()) {
			return pairs;
		}
		if (!metadata.isObject()) {
			throw BatchException.invalid("metadata", "must be an object of string values");
		}
		if (metadata.size() > MAX_METADATA) {
			throw BatchException.invalid("metadata", "may have at most " + MAX_METADATA + " keys");
		}
		for (Map.Entry<String, JsonNode> entry : metadata.properties()) {
			if (entry.getKey().length() > 64) {
				throw BatchException.invalid("metadata", "keys may be at most 64 characters");
			}
			if (!entry.getValue().isString() || entry.getValue().asString().length() > 512) {
				throw BatchException.invalid("metadata." + entry.getKey(),
						"must be a string of at most 512 characters");
			}
			pairs.put(entry.getKey(), entry.getValue().asString());
		}
		return pairs;
	}

	@GetMapping("/v1/batches/{id}")
	Map<String, Object> retrieve(@PathVariable String id, @AuthenticationPrincipal Tenant tenant) {
		return view(this.batches.find(tenant.id(), id).orElseThrow(() -> BatchException.batchNotFound(id)));
	}

	@GetMapping("/v1/batches")
	Map<String, Object> list(@RequestParam(name = "after", required = false) String after,
			@RequestParam(name = "limit", required = false) Integer limit, @AuthenticationPrincipal Tenant tenant) {
		int max = (limit != null) ? limit : 20;
		if (max < 1 || max > 100) {
			throw BatchException.invalid("limit", "must be between 1 and 100 (was " + max + ")");
		}
		List<String> ids = this.batches.ids(tenant.id());
		int start = 0;
		if (after != null && !after.isBlank()) {
			int at = ids.indexOf(after);
			start = (at >= 0) ? at + 1 : ids.size();
		}
		List<Batch> page = new ArrayList<>();
		int i = start;
		for (; i < ids.size() && page.size() < max; i++) {
			this.batches.find(tenant.id(), ids.get(i)).ifPresent(page::add);
		}
		return Pages.page(page, Batch::id, null, max, BatchesApiController::view, i < ids.size());
	}

	@PostMapping("/v1/batches/{id}/cancel")
	Map<String, Object> cancel(@PathVariable String id, @AuthenticationPrincipal Tenant tenant) {
		return view(this.batches.cancel(tenant.id(), id));
	}

	/**
	 * OpenAI's batch object.
	 * @param batch the batch
	 * @return its JSON
	 */
	static Map<String, Object> view(Batch batch) {
		Map<String, Object> view = new LinkedHashMap<>();
		view.put("id", batch.id());
		view.put("object", "batch");
		view.put("endpoint", batch.endpoint());
		view.put("model", batch.model());
		if (batch.errors().isEmpty()) {
			view.put("errors", null);
		}
		else {
			List<Map<String, Object>> data = new ArrayList<>();
			for (String error : batch.errors()) {
				Map<String, Object> entry = new LinkedHashMap<>();
				entry.put("code", error.startsWith(BatchFinalizer.TENANT_DELETED + ":") ? BatchFinalizer.TENANT_DELETED
						: "invalid_input");
				entry.put("message", error);
				entry.put("param", null);
				entry.put("line", lineOf(error));
				data.add(entry);
			}
			Map<String, Object> errors = new LinkedHashMap<>();
			errors.put("object", "list");
			errors.put("data", data);
			view.put("errors", errors);
		}
		view.put("input_file_id", batch.inputFileId());
		view.put("completion_window", batch.completionWindow());
		view.put("status", batch.visibleStatus().wire());
		view.put("output_file_id", batch.outputFileId());
		view.put("error_file_id", batch.errorFileId());
		view.put("created_at", batch.createdAt());
		view.put("in_progress_at", batch.inProgressAt());
		view.put("expires_at", batch.expiresAt());
		view.put("finalizing_at", batch.finalizingAt());
		view.put("completed_at", batch.completedAt());
		view.put("failed_at", batch.failedAt());
		view.put("expired_at", batch.expiredAt());
		view.put("cancelling_at", batch.cancellingAt());
		view.put("cancelled_at", batch.cancelledAt());
		Map<String, Object> counts = new LinkedHashMap<>();
		counts.put("total", batch.total());
		counts.put("completed", batch.completed());
		counts.put("failed", batch.failed());
		view.put("request_counts", counts);
		view.put("metadata", batch.metadata());
		view.put("x_tiergate_tier", batch.tier().name());
		return view;
	}

	private static Integer lineOf(String error) {
		if (error.startsWith("line ")) {
			int colon = error.indexOf(':');
			try {
				return Integer.valueOf(error.substring(5, colon));
			}
			catch (RuntimeException ex) {
				return null;
			}
		}
		return null;
	}

}
