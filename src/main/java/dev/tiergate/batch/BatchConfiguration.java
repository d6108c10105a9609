package dev.tiergate.batch;

import java.time.Clock;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.servlet.MultipartConfigFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.util.unit.DataSize;

import dev.tiergate.batch.internal.BatchKeys;
import dev.tiergate.batch.internal.BatchQueue;
import dev.tiergate.batch.internal.BatchRecords;
import dev.tiergate.batch.internal.RedisFileStore;
import dev.tiergate.dispatch.DispatchRuntime;
import dev.tiergate.proxy.ProxyProperties;
import dev.tiergate.proxy.UpstreamExchange;
import dev.tiergate.proxy.HostedSpill;
import dev.tiergate.replica.ReplicaIdentity;
import dev.tiergate.replica.ReplicaSubscription;
import dev.tiergate.spill.Spillover;
import dev.tiergate.quota.QuotaService;
import dev.tiergate.quota.TenantStore;
import dev.tiergate.requestlog.RequestLog;
import dev.tiergate.routing.EndpointRegistry;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.servlet.MultipartConfigElement;
import tools.jackson.databind.json.JsonMapper;

/**
 * Batch's beans, and the servlet container's multipart limits, derived from
 * {@code tiergate.batch.max-file-size}: a file up to a megabyte over the limit still
 * reaches the Files API, which refuses it with 400 {@code file_too_large}; a larger
 * upload is cut off by the container and answered 413 {@code request_too_large}. Parts
 * are buffered on disk above 1MB, never whole in memory.
 */
@Configuration(proxyBeanMethods = false)
class BatchConfiguration {

	@Bean
	FileStore fileStore(StringRedisTemplate redis, BatchProperties properties) {
		return new RedisFileStore(redis, (int) properties.chunkSize().toBytes());
	}

	@Bean
	BatchRecords batchRecords(StringRedisTemplate redis, JsonMapper json) {
		return new BatchRecords(redis, json);
	}

	@Bean
	BatchQueue batchQueue(StringRedisTemplate redis) {
		return new BatchQueue(redis);
	}

	@Bean
	BatchService batchService(FileStore files, BatchRecords records, BatchQueue queue, QuotaService quota,
			ServedModels models, ProxyProperties proxy, BatchProperties properties, JsonMapper json, Clock clock,
			ObjectProvider<BatchFaults> faults) {
		return new BatchService(files, records, queue, quota, models, proxy, properties, json, clock,
				faults.getIfAvailable(() -> BatchFaults.NONE));
	}

	@Bean
	BatchMetrics batchMetrics(MeterRegistry meters) {
		return new BatchMetrics(meters);
	}

	@Bean
	BatchFinalizer batchFinalizer(BatchRecords records, BatchQueue queue, FileStore files, QuotaService quota,
			JsonMapper json, Clock clock, BatchProperties properties, ObjectProvider<BatchFaults> faults) {
		return new BatchFinalizer(records, queue, files, quota, json, clock, properties,
				faults.getIfAvailable(() -> BatchFaults.NONE));
	}

	@Bean
	BatchWorkers batchWorkers(BatchRecords records, BatchQueue queue, BatchFinalizer finalizer, TenantStore tenants,
			QuotaService quota, DispatchRuntime dispatcher, UpstreamExchange exchange, BatchProperties properties,
			ObjectProvider<BatchFaults> faults, BatchMetrics metrics, JsonMapper json, Clock clock,
			BatchService batches, ObjectProvider<RequestLog> requestLog, ReplicaIdentity replica, Spillover spillover,
			HostedSpill hosted) {
		BatchWorkers workers = new BatchWorkers(records, queue, finalizer, tenants, quota, dispatcher, exchange,
				properties, faults.getIfAvailable(() -> BatchFaults.NONE), metrics, json, clock,
				requestLog.getIfAvailable(() -> RequestLog.NONE), "worker-" + replica.name(), spillover, hosted);
		workers.enqueuer(batches::enqueue);
		return workers;
	}

	/**
	 * Wakes this replica's workers when any replica activates a batch.
	 */
	@Bean
	ReplicaSubscription batchActivations(BatchWorkers workers) {
		return new ReplicaSubscription(BatchKeys.ACTIVATED, (member) -> workers.wake());
	}

	@Bean
	HealthIndicator redisPersistenceHealthIndicator(StringRedisTemplate redis) {
		return new RedisPersistenceHealth(redis);
	}

	@Bean
	ServedModels servedModels(EndpointRegistry registry, DispatchRuntime dispatcher) {
		return new ServedModels(registry, dispatcher);
	}

	@Bean
	MultipartConfigElement multipartConfigElement(BatchProperties properties) {
		MultipartConfigFactory factory = new MultipartConfigFactory();
		long limit = properties.maxFileSize().toBytes();
		factory.setMaxFileSize(DataSize.ofBytes(limit + DataSize.ofMegabytes(1).toBytes()));
		factory.setMaxRequestSize(DataSize.ofBytes(limit + DataSize.ofMegabytes(2).toBytes()));
		factory.setFileSizeThreshold(DataSize.ofMegabytes(1));
		return factory.createMultipartConfig();
	}

}
