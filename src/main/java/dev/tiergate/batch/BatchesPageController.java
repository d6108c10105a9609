package dev.tiergate.batch;

import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;

import dev.tiergate.batch.internal.BatchQueue;
import dev.tiergate.batch.internal.BatchRecords;
import dev.tiergate.quota.Tenant;
import dev.tiergate.quota.TenantStore;

/**
 * The dashboard's batches: every tenant's unfinished batches and its latest finished
 * ones, each with a progress bar (completed, failed, in flight, queued), items per second
 * and expected completion; and one batch's page.
 */
@Controller
class BatchesPageController {

	/** Finished batches shown per tenant. */
	static final int RECENT = 10;

	private final BatchRecords records;

	private final BatchQueue queue;

	private final TenantStore tenants;

	private final Clock clock;

	BatchesPageController(BatchRecords records, BatchQueue queue, TenantStore tenants, Clock clock) {
		this.records = records;
		this.queue = queue;
		this.tenants = tenants;
		this.clock = clock;
	}

	@GetMapping("/batches")
	String list(Model model) {
		List<BatchProgress> batches = new ArrayList<>();
		long now = this.clock.instant().getEpochSecond();
		for (Tenant tenant : this.tenants.findAll()) {
			List<String> ids = this.records.ids(tenant.id());
			for (int i = 0; i < ids.size() && i < RECENT; i++) {
				this.records.find(tenant.id(), ids.get(i)).ifPresent((b) -> batches.add(progress(b, now)));
			}
		}
		batches.sort(Comparator.comparing((BatchProgress p) -> p.batch().status().terminal())
			.thenComparing((BatchProgress p) -> -p.batch().createdAt()));
		model.addAttribute("batches", batches);
		return "batch/batches";
	}

	@GetMapping("/batches/{tenant}/{id}")
	String detail(@PathVariable String tenant, @PathVariable String id, Model model) {
		Batch batch = this.records.find(tenant, id).orElseThrow(() -> BatchException.batchNotFound(id));
		model.addAttribute("p", progress(batch, this.clock.instant().getEpochSecond()));
		return "batch/batch";
	}

	private BatchProgress progress(Batch batch, long now) {
		long pending = batch.status().terminal() ? 0 : this.queue.pending(batch.tenant(), batch.id());
		return BatchProgress.of(batch, pending, now);
	}

}
