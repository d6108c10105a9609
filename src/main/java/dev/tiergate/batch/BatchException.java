package dev.tiergate.batch;

import java.time.Duration;
import java.util.Map;

import dev.tiergate.problem.TiergateException;

/**
 * A refused Files or Batch API call: what was wrong and which field it concerns.
 */
public class BatchException extends TiergateException {

	BatchException(int status, String code, String field, String message) {
		super(status, code, message, field, null, Map.of());
	}

	BatchException(int status, String code, String field, String message, Duration retryAfter) {
		super(status, code, message, field, retryAfter, Map.of());
	}

	static BatchException invalid(String field, String message) {
		return new BatchException(400, "invalid_request", field, field + ": " + message);
	}

	static BatchException invalidFile(InputLines.Result result) {
		String shown = String.join("; ", result.errors());
		String more = (result.invalid() > result.errors().size())
				? " (and " + (result.invalid() - result.errors().size()) + " more)" : "";
		return new BatchException(400, "invalid_file", "file",
				"The file is not valid batch input: " + shown + more + ".");
	}

	static BatchException fileNotFound(String id) {
		return new BatchException(404, "not_found", "file_id", "No such File object: " + id);
	}

	static BatchException batchNotFound(String id) {
		return new BatchException(404, "not_found", "batch_id", "No such Batch object: " + id);
	}

}
