package dev.tiergate.batch;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.tiergate.batch.internal.BatchQueue;
import dev.tiergate.batch.internal.BatchRecords;
import dev.tiergate.quota.QuotaService;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Ends a batch: moves it to {@code finalizing} (one replica wins; one whose finalizer
 * does not finish within {@code claim-idle} is taken over), writes its output and error
 * files from the results in input order (for an expired batch, every item that never ran
 * becomes an error line {@code batch_expired}), then moves it to {@code completed},
 * {@code expired} or {@code cancelled} with the files' ids, and frees what it held: its
 * place among the unfinished batches, its enqueued tokens, its stream and results. Every
 * step can be repeated after a crash with the same outcome (the files' ids follow from
 * the batch's).
 */
class BatchFinalizer {

	private static final Logger logger = LoggerFactory.getLogger(BatchFinalizer.class);

	private static final int PAGE = 1000;

	/** The error code of a batch failed because its tenant was deleted. */
	static final String TENANT_DELETED = "tenant_deleted";

	private final BatchRecords records;

	private final BatchQueue queue;

	private final FileStore files;

	private final QuotaService quota;

	private final JsonMapper json;

	private final Clock clock;

	private final BatchProperties properties;

	private final BatchFaults faults;

	BatchFinalizer(BatchRecords records, BatchQueue queue, FileStore files, QuotaService quota, JsonMapper json,
			Clock clock, BatchProperties properties, BatchFaults faults) {
		this.records = records;
		this.queue = queue;
		this.files = files;
		this.quota = quota;
		this.json = json;
		this.clock = clock;
		this.properties = properties;
		this.faults = faults;
	}

	/**
	 * Finalizes a batch if it is this caller's to finalize.
	 * @param batch the batch as last read
	 * @param owner the caller (a worker's name)
	 * @return the batch's final state, or {@code null} when another replica finalizes it
	 */
	Batch finalizeBatch(Batch batch, String owner) {
		long nowMillis = this.clock.millis();
		long until = nowMillis + this.properties.claimIdle().toMillis();
		String tenant = batch.tenant();
		boolean mine;
		if (batch.status() == BatchStatus.IN_PROGRESS || batch.status() == BatchStatus.CANCELLING) {
			mine = this.records.transition(tenant, batch.id(), BatchStatus.FINALIZING, "finalizing_at",
					nowMillis / 1000, EnumSet.of(BatchStatus.IN_PROGRESS, BatchStatus.CANCELLING),
					Map.of("finalizer", owner, "finalizeUntil", Long.toString(until)));
		}
		else if (batch.status() == BatchStatus.FINALIZING) {
			mine = this.records.takeOverFinalizing(tenant, batch.id(), owner, nowMillis, until);
		}
		else {
			mine = false;
		}
		if (!mine) {
			return null;
		}
		this.faults.at(BatchFaults.Point.BEFORE_FINALIZE, batch.id(), null);
		try {
			return writeFiles(tenant, batch.id());
		}
		catch (RuntimeException ex) {
			// Let the next maintenance pass (of any replica) try again at once, rather
			// than after the lease.
			try {
				this.records.set(tenant, batch.id(), Map.of("finalizeUntil", "0"));
			}
			catch (RuntimeException ignored) {
				// the lease runs out instead
			}
			throw ex;
		}
	}

	private Batch writeFiles(String tenant, String batchId) {
		Batch current = this.records.find(tenant, batchId).orElseThrow();
		BatchStatus target = (current.cancellingAt() != null) ? BatchStatus.CANCELLED
				: (current.remaining() > 0) ? BatchStatus.EXPIRED : BatchStatus.COMPLETED;
		String hex = current.id().substring(current.id().indexOf('_') + 1);
		String outputId = "file-" + hex + "-out";
		String errorId = "file-" + hex + "-err";
		int expired = 0;
		String outputFile = null;
		String errorFile = null;
		long now = this.clock.instant().getEpochSecond();
		try (FileStore.Upload output = this.files.begin(tenant, outputId);
				FileStore.Upload errors = this.files.begin(tenant, errorId)) {
			int outputLines = 0;
			int errorLines = 0;
			String after = null;
			while (true) {
				List<BatchQueue.Delivery> page = this.queue.range(tenant, current.id(), after, PAGE);
				if (page.isEmpty()) {
					break;
				}
				List<String> ids = new ArrayList<>(page.size());
				page.forEach((d) -> ids.add(d.item().customId()));
				List<String> results = this.queue.results(tenant, current.id(), ids);
				for (int i = 0; i < page.size(); i++) {
					String result = results.get(i);
					if (result == null) {
						if (target == BatchStatus.EXPIRED) {
							write(errors, expiredLine(page.get(i).item().customId()));
							errorLines++;
							expired++;
						}
						continue;
					}
					if (result.charAt(0) == 'o') {
						write(output, result.substring(1));
						outputLines++;
					}
					else {
						write(errors, result.substring(1));
						errorLines++;
					}
				}
				after = page.get(page.size() - 1).entryId();
			}
			String prefix = current.id();
			if (outputLines > 0) {
				outputFile = output.commit(prefix + "_output.jsonl", "batch_output", now).id();
			}
			if (errorLines > 0) {
				errorFile = errors.commit(prefix + "_error.jsonl", "batch_output", now).id();
			}
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Writing the files of batch " + current.id(), ex);
		}
		this.faults.at(BatchFaults.Point.FILES_WRITTEN, current.id(), null);
		Map<String, String> fields = new LinkedHashMap<>();
		if (outputFile != null) {
			fields.put("outputFileId", outputFile);
		}
		if (errorFile != null) {
			fields.put("errorFileId", errorFile);
		}
		fields.put("failed", Integer.toString(current.failed() + expired));
		String timeField = switch (target) {
			case CANCELLED -> "cancelled_at";
			case EXPIRED -> "expired_at";
			default -> "completed_at";
		};
		this.records.transition(tenant, current.id(), target, timeField, this.clock.instant().getEpochSecond(),
				EnumSet.of(BatchStatus.FINALIZING), fields);
		release(tenant, current.id());
		logger.info("Batch {} of tenant {} is {}: {} completed, {} failed", current.id(), tenant, target.wire(),
				current.completed(), current.failed() + expired);
		return this.records.find(tenant, current.id()).orElseThrow();
	}

	/**
	 * Fails a batch whose tenant was deleted: it moves to {@code failed} with the error
	 * {@value #TENANT_DELETED}, and its queue, results and enqueued tokens are dropped
	 * (the tenant's keys are gone, so nobody could read its files). Items still running
	 * finish, and their results are discarded. A batch that moved on meanwhile (another
	 * replica finalizes or failed it) is left to that replica.
	 * @param batch the batch, not yet finalizing
	 */
	void failOrphaned(Batch batch) {
		String error = TENANT_DELETED + ": tenant " + batch.tenant() + " was deleted while this batch was "
				+ batch.status().wire() + "; its items stopped and its results were discarded";
		boolean moved = this.records.transition(batch.tenant(), batch.id(), BatchStatus.FAILED, "failed_at",
				this.clock.instant().getEpochSecond(),
				EnumSet.of(BatchStatus.VALIDATING, BatchStatus.IN_PROGRESS, BatchStatus.CANCELLING),
				Map.of("errors", this.json.writeValueAsString(List.of(error))));
		if (moved) {
			logger.warn("Batch {} failed: {}", batch.id(), error);
			release(batch.tenant(), batch.id());
		}
	}

	/**
	 * Frees what a finished batch held; safe to repeat.
	 * @param tenant the tenant
	 * @param id the batch
	 */
	void release(String tenant, String id) {
		this.records.deactivate(tenant, id);
		this.quota.releaseEnqueued(tenant, id);
		this.queue.drop(tenant, id);
	}

	private String expiredLine(String customId) {
		ObjectNode line = this.json.createObjectNode();
		line.put("id", "batch_req_" + UUID.randomUUID().toString().replace("-", ""));
		line.put("custom_id", customId);
		line.putNull("response");
		ObjectNode error = line.putObject("error");
		error.put("code", "batch_expired");
		error.put("message", "This request could not be executed before the completion window expired.");
		return this.json.writeValueAsString(line);
	}

	private static void write(FileStore.Upload upload, String line) throws IOException {
		byte[] bytes = (line + "\n").getBytes(StandardCharsets.UTF_8);
		upload.write(bytes, 0, bytes.length);
	}

}
