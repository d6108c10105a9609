package dev.tiergate.batch;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.tiergate.batch.internal.BatchQueue;
import dev.tiergate.batch.internal.BatchRecords;
import dev.tiergate.batch.internal.QueueItem;
import dev.tiergate.proxy.OpenAiException;
import dev.tiergate.proxy.ProxyProperties;
import dev.tiergate.proxy.TokenEstimates;
import dev.tiergate.quota.QuotaService;
import dev.tiergate.quota.Tenant;
import dev.tiergate.tier.Tier;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Creates, reads and cancels batches. Creating one reads its input file twice without
 * holding it: once to check every line again and add up its tokens (counted against the
 * tenant's enqueued-tokens limit, all or nothing), once to queue its items in the batch's
 * stream; then the batch is {@code in_progress} and listed for the workers.
 */
public class BatchService {

	private static final Logger logger = LoggerFactory.getLogger(BatchService.class);

	/** The one completion window OpenAI offers. */
	static final String WINDOW = "24h";

	private static final int ENQUEUE_PAGE = 1000;

	/**
	 * About the most bytes of request bodies one enqueue call (one Redis command)
	 * carries.
	 */
	private static final long ENQUEUE_PAGE_BYTES = 4 * 1024 * 1024;

	private final FileStore files;

	private final BatchRecords records;

	private final BatchQueue queue;

	private final QuotaService quota;

	private final ServedModels models;

	private final ProxyProperties proxy;

	private final BatchProperties properties;

	private final JsonMapper json;

	private final Clock clock;

	private final BatchFaults faults;

	BatchService(FileStore files, BatchRecords records, BatchQueue queue, QuotaService quota, ServedModels models,
			ProxyProperties proxy, BatchProperties properties, JsonMapper json, Clock clock, BatchFaults faults) {
		this.faults = faults;
		this.files = files;
		this.records = records;
		this.queue = queue;
		this.quota = quota;
		this.models = models;
		this.proxy = proxy;
		this.properties = properties;
		this.json = json;
		this.clock = clock;
	}

	/**
	 * What {@code POST /v1/batches} asks for.
	 *
	 * @param inputFileId the input file
	 * @param endpoint the path every line names
	 * @param completionWindow {@code 24h}
	 * @param metadata the caller's key-value pairs
	 */
	record CreateRequest(String inputFileId, String endpoint, String completionWindow, Map<String, String> metadata) {
	}

	/**
	 * Creates and queues a batch.
	 * @param tenant the tenant
	 * @param request what to run
	 * @return the batch: {@code in_progress}, or {@code failed} with the reasons when its
	 * input no longer holds (a model gone since the upload)
	 */
	Batch create(Tenant tenant, CreateRequest request) {
		StoredFile file = this.files.find(tenant.id(), request.inputFileId())
			.orElseThrow(() -> BatchException.fileNotFound(request.inputFileId()));
		if (!file.purpose().equals("batch")) {
			throw BatchException.invalid("input_file_id", "file " + file.id() + " has purpose '" + file.purpose()
					+ "'; a batch reads a file uploaded with purpose \"batch\"");
		}
		Tier tier = tenant.batchTier();
		long[] tokens = new long[1];
		InputLines.Result checked = scan(tenant, file, (item, number) -> tokens[0] += estimate(item, request));
		long nowMillis = this.clock.millis();
		long now = nowMillis / 1000;
		String id = "batch_" + UUID.randomUUID().toString().replace("-", "");
		if (!checked.valid()) {
			Batch failed = new Batch(id, tenant.id(), request.endpoint(), checked.model(), tier, file.id(), WINDOW,
					BatchStatus.FAILED, now, null, null, null, null, now, null, null, null, null, null, checked.items(),
					0, 0, 0, request.metadata(), checked.errors());
			this.records.create(failed, nowMillis);
			return failed;
		}
		if (!request.endpoint().equals(checked.url())) {
			throw BatchException.invalid("endpoint", "'" + request.endpoint() + "' does not match the url '"
					+ checked.url() + "' of the lines of file " + file.id());
		}
		this.quota.reserveEnqueued(tenant, id, tokens[0]);
		Batch batch = new Batch(id, tenant.id(), request.endpoint(), checked.model(), tier, file.id(), WINDOW,
				BatchStatus.VALIDATING, now, null, now + Duration.ofHours(24).toSeconds(), null, null, null, null, null,
				null, null, null, checked.items(), 0, 0, tokens[0], request.metadata(), List.of());
		try {
			this.records.create(batch, nowMillis);
			// Listed as unfinished before its items are queued: if this replica dies
			// while queueing, the workers of another find it validating with no
			// queueing progress for claim-idle and queue it again from its file
			// (BatchWorkers.maintain). Listed only at the end, such a batch stayed
			// validating for good, its tokens reserved.
			this.records.activate(tenant.id(), id, now);
			enqueue(tenant, batch);
		}
		catch (RuntimeException ex) {
			this.faults.at(BatchFaults.Point.QUEUEING_FAILED, id, null);
			this.quota.releaseEnqueued(tenant.id(), id);
			this.records.transition(tenant.id(), id, BatchStatus.FAILED, "failed_at", now,
					EnumSet.of(BatchStatus.VALIDATING));
			throw ex;
		}
		return find(tenant.id(), id).orElseThrow();
	}

	/**
	 * Queues a batch's items (again, replacing what a cut-off attempt left) and starts
	 * it.
	 * @param tenant the tenant
	 * @param batch a batch in {@code validating}
	 */
	void enqueue(Tenant tenant, Batch batch) {
		this.records.queueingProgressed(tenant.id(), batch.id(), this.clock.millis());
		this.queue.start(tenant.id(), batch.id());
		List<QueueItem> page = new ArrayList<>(ENQUEUE_PAGE);
		long[] pageBytes = new long[1];
		Tier tier = batch.tier();
		boolean priority = this.proxy.sendsPriority(batch.model());
		CreateRequest shape = new CreateRequest(batch.inputFileId(), batch.endpoint(), WINDOW, Map.of());
		StoredFile file = this.files.find(tenant.id(), batch.inputFileId())
			.orElseThrow(() -> BatchException.fileNotFound(batch.inputFileId()));
		scan(tenant, file, (item, number) -> {
			ObjectNode body = (ObjectNode) item.get("body");
			long prompt = TokenEstimates.promptTokens(body);
			long max = maxTokens(body, shape);
			body.remove("service_tier");
			body.remove("stream");
			if (priority) {
				body.put("priority", tier.enginePriority());
			}
			String text = this.json.writeValueAsString(body);
			page.add(new QueueItem(item.get("custom_id").asString(), number, text, prompt, max));
			pageBytes[0] += text.length();
			if (page.size() == ENQUEUE_PAGE || pageBytes[0] >= ENQUEUE_PAGE_BYTES) {
				this.queue.enqueue(tenant.id(), batch.id(), page);
				this.records.queueingProgressed(tenant.id(), batch.id(), this.clock.millis());
				this.faults.at(BatchFaults.Point.QUEUED, batch.id(), null);
				page.clear();
				pageBytes[0] = 0;
			}
		});
		if (!page.isEmpty()) {
			this.queue.enqueue(tenant.id(), batch.id(), page);
			this.faults.at(BatchFaults.Point.QUEUED, batch.id(), null);
		}
		long now = this.clock.instant().getEpochSecond();
		this.records.transition(tenant.id(), batch.id(), BatchStatus.IN_PROGRESS, "in_progress_at", now,
				EnumSet.of(BatchStatus.VALIDATING));
		this.records.activate(tenant.id(), batch.id(), batch.createdAt());
		logger.info("Batch {} of tenant {} queued: {} items of {} at {}", batch.id(), tenant.id(), batch.total(),
				batch.model(), tier);
	}

	private long estimate(JsonNode item, CreateRequest request) {
		JsonNode body = item.get("body");
		if (body == null || !body.isObject()) {
			return 0;
		}
		return TokenEstimates.promptTokens(body) + maxTokens(body, request);
	}

	private long maxTokens(JsonNode body, CreateRequest request) {
		if ("/v1/embeddings".equals(request.endpoint())) {
			return 0;
		}
		try {
			return TokenEstimates.maxTokens(body, this.proxy.defaultMaxTokens(),
					this.models.contextLength(body.path("model").asString(""), this.proxy));
		}
		catch (OpenAiException ex) {
			// An item whose limit is out of range still joins the batch, as with OpenAI:
			// its endpoint refuses it and it lands in the error file. It reserves
			// nothing.
			return 0;
		}
	}

	private InputLines.Result scan(Tenant tenant, StoredFile file,
			java.util.function.ObjIntConsumer<JsonNode> consumer) {
		InputLines lines = new InputLines(this.json, this.models::serves,
				(int) this.proxy.maxRequestSize().toBytes() + 1024, this.properties.maxItems(),
				this.properties.maxLineErrors())
			.onItem(consumer);
		try (InputStream in = this.files.open(tenant.id(), file.id())
			.orElseThrow(() -> BatchException.fileNotFound(file.id()))) {
			byte[] buffer = new byte[64 * 1024];
			int n;
			while ((n = in.read(buffer)) > 0) {
				lines.accept(buffer, 0, n);
			}
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Reading file " + file.id(), ex);
		}
		return lines.finish();
	}

	/**
	 * One of a tenant's batches.
	 * @param tenantId the tenant
	 * @param id the batch
	 * @return the batch, or empty when the tenant has none with that id
	 */
	Optional<Batch> find(String tenantId, String id) {
		return this.records.find(tenantId, id);
	}

	/**
	 * A tenant's batches, newest first.
	 * @param tenantId the tenant
	 * @return their ids
	 */
	List<String> ids(String tenantId) {
		return this.records.ids(tenantId);
	}

	/**
	 * Cancels a batch: no new item starts, running ones finish, then it is
	 * {@code cancelled} with what ran in its files.
	 * @param tenantId the tenant
	 * @param id the batch
	 * @return the batch as it is now
	 */
	Batch cancel(String tenantId, String id) {
		Batch batch = find(tenantId, id).orElseThrow(() -> BatchException.batchNotFound(id));
		if (batch.status() == BatchStatus.CANCELLING || batch.status() == BatchStatus.CANCELLED) {
			return batch;
		}
		boolean moved = this.records.transition(tenantId, id, BatchStatus.CANCELLING, "cancelling_at",
				this.clock.instant().getEpochSecond(), EnumSet.of(BatchStatus.VALIDATING, BatchStatus.IN_PROGRESS));
		if (!moved) {
			Batch now = find(tenantId, id).orElseThrow(() -> BatchException.batchNotFound(id));
			if (now.status() == BatchStatus.CANCELLING || now.status() == BatchStatus.CANCELLED) {
				return now;
			}
			throw new BatchException(409, "batch_not_cancellable", "batch_id",
					"Batch " + id + " is " + now.status().wire() + " and can no longer be cancelled.");
		}
		return find(tenantId, id).orElseThrow(() -> BatchException.batchNotFound(id));
	}

}
