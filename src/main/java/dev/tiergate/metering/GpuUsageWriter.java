package dev.tiergate.metering;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.tiergate.quota.QuotaService;

/**
 * Adds what the {@link GpuMeter} attributed to the tenants' usage, every flush interval,
 * on a thread of its own (never on the request path). A write that fails is kept and
 * added to the next one.
 */
public class GpuUsageWriter implements AutoCloseable {

	/** The tenant label of tenants past the bound. */
	static final String OTHER = "other";

	private static final Logger logger = LoggerFactory.getLogger(GpuUsageWriter.class);

	private final GpuMeter meter;

	private final QuotaService quota;

	private final ScheduledExecutorService thread;

	private Map<GpuUsageKey, double[]> pending = new HashMap<>();

	private final MeterRegistry meters;

	private final int maxTenantLabels;

	private final Set<String> labelledTenants = new HashSet<>();

	private volatile java.util.function.Consumer<GpuAttribution.Attribution> drained = (attribution) -> {
	};

	/**
	 * A writer without metrics; {@link #start(Duration)} begins the periodic flushes.
	 * @param meter the meter to drain
	 * @param quota where usage is kept
	 */
	public GpuUsageWriter(GpuMeter meter, QuotaService quota) {
		this(meter, quota, null, 0);
	}

	/**
	 * A writer; {@link #start(Duration)} begins the periodic flushes.
	 * @param meter the meter to drain
	 * @param quota where usage is kept
	 * @param meters where {@code tiergate.tenant.gpu.seconds} is counted, or {@code null}
	 * @param maxTenantLabels most distinct tenants named in its {@code tenant} label (the
	 * rest count as {@code other})
	 */
	public GpuUsageWriter(GpuMeter meter, QuotaService quota, MeterRegistry meters, int maxTenantLabels) {
		this.meter = meter;
		this.quota = quota;
		this.meters = meters;
		this.maxTenantLabels = maxTenantLabels;
		this.thread = Executors
			.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("tiergate-gpu-usage").daemon().factory());
	}

	/**
	 * Hands every drained attribution to a consumer as well (the measured-against-
	 * attributed check), on the flushing thread.
	 * @param consumer the consumer
	 * @return this writer
	 */
	public GpuUsageWriter onDrain(java.util.function.Consumer<GpuAttribution.Attribution> consumer) {
		this.drained = consumer;
		return this;
	}

	/**
	 * Starts flushing every interval.
	 * @param interval the flush interval
	 * @return this writer
	 */
	public GpuUsageWriter start(Duration interval) {
		long millis = interval.toMillis();
		this.thread.scheduleWithFixedDelay(this::flushQuietly, millis, millis, TimeUnit.MILLISECONDS);
		return this;
	}

	private void flushQuietly() {
		try {
			flush();
		}
		catch (RuntimeException ex) {
			logger.warn("GPU usage not written, kept for the next flush: {}", ex.toString());
		}
	}

	/**
	 * Drains the meter and adds what it attributed (and anything a failed write left) to
	 * the tenants' usage.
	 */
	public synchronized void flush() {
		GpuAttribution.Attribution drained = this.meter.drain();
		this.drained.accept(drained);
		if (this.meters != null) {
			drained.gpuSeconds().forEach(this::count);
		}
		drained.gpuSeconds()
			.forEach((key, seconds) -> this.pending.computeIfAbsent(key, (k) -> new double[2])[0] += seconds);
		drained.cost().forEach((key, dollars) -> this.pending.computeIfAbsent(key, (k) -> new double[2])[1] += dollars);
		if (this.pending.isEmpty()) {
			return;
		}
		List<QuotaService.GpuSeconds> batch = new ArrayList<>(this.pending.size());
		this.pending.forEach((key, sums) -> batch
			.add(new QuotaService.GpuSeconds(key.tenant(), key.day(), key.tier(), key.model(), sums[0], sums[1])));
		this.quota.addGpuSeconds(batch);
		this.pending = new HashMap<>();
	}

	private void count(GpuUsageKey key, double seconds) {
		String tenant = key.tenant();
		if (!this.labelledTenants.contains(tenant)) {
			if (this.labelledTenants.size() < this.maxTenantLabels) {
				this.labelledTenants.add(tenant);
			}
			else {
				tenant = OTHER;
			}
		}
		Counter.builder("tiergate.tenant.gpu.seconds")
			.description(
					"GPU-seconds attributed to tenants' leases (tenant 'other' past tiergate.metering.max-tenant-labels)")
			.baseUnit("seconds")
			.tag("tenant", tenant)
			.tag("tier", key.tier().name())
			.tag("model", key.model())
			.register(this.meters)
			.increment(seconds);
	}

	@Override
	public void close() {
		this.thread.shutdownNow();
		flushQuietly();
	}

}
