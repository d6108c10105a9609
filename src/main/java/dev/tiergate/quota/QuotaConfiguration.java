package dev.tiergate.quota;

import java.time.Clock;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.data.redis.autoconfigure.ClientResourcesBuilderCustomizer;
import org.springframework.boot.data.redis.autoconfigure.LettuceClientOptionsBuilderCustomizer;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.connection.lettuce.LettuceConnection;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;

import dev.tiergate.audit.AuditLog;
import dev.tiergate.replica.ReplicaSubscription;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.resource.Delay;
import io.micrometer.core.instrument.MeterRegistry;
import tools.jackson.databind.json.JsonMapper;

/**
 * Quota's beans, and the Redis client behaviour the admission path needs: a command
 * issued while the connection is down fails at once instead of waiting in Lettuce's
 * queue, and reconnection is retried at most a second apart, so normal mode returns soon
 * after Redis does.
 */
@Configuration(proxyBeanMethods = false)
class QuotaConfiguration {

	@Bean
	QuotaBackendCircuit quotaBackendCircuit(QuotaProperties properties, Clock clock, MeterRegistry meters) {
		return new QuotaBackendCircuit(properties.failureThreshold(), properties.openFor(),
				properties.halfOpenTimeout(), clock, meters);
	}

	@Bean
	TenantStore tenantStore(StringRedisTemplate redis, Clock clock, QuotaBackendCircuit circuit,
			QuotaProperties properties) {
		return new TenantStore(redis, clock, circuit, properties.keyCacheTtl());
	}

	/**
	 * Hears which tenants other replicas changed, so that this one forgets their keys.
	 */
	@Bean
	ReplicaSubscription tenantChanges(TenantStore tenants) {
		return new ReplicaSubscription(TenantStore.CHANGES, tenants::forget);
	}

	@Bean
	TenantAdministration tenantAdministration(TenantStore tenants, AuditLog audit, JsonMapper json) {
		return new TenantAdministration(tenants, audit, json);
	}

	@Bean
	QuotaService quotaService(StringRedisTemplate redis, QuotaProperties properties, Clock clock, MeterRegistry meters,
			QuotaBackendCircuit circuit) {
		return new QuotaService(redis, properties, clock, meters, circuit);
	}

	@Bean
	HealthIndicator quotaHealthIndicator(QuotaBackendCircuit circuit, QuotaProperties properties) {
		return () -> {
			QuotaBackendCircuit.State state = circuit.state();
			return Health.up()
				.withDetail("mode", (state == QuotaBackendCircuit.State.CLOSED) ? "redis" : "fallback")
				.withDetail("circuit", state.name().toLowerCase(Locale.ROOT))
				.withDetail("outagePolicy", properties.outagePolicy())
				.build();
		};
	}

	@Bean
	LettuceClientOptionsBuilderCustomizer quotaFailFastWhenDisconnected() {
		return (options) -> options.disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS);
	}

	/**
	 * Pipelines (the request log's writes, GPU usage, a file's staged chunks) go out in
	 * one write when they close instead of a write per command: the request log's second
	 * of records at 1,000 requests/s was up to 500 writes on a pooled connection, each a
	 * task for Lettuce's event loop and a read for Redis. A pipeline holds its commands
	 * until then, so the callers keep them bounded (at most
	 * {@code tiergate.request-log.batch-size} records; a file's chunk keys). A pipeline
	 * uses a dedicated (pooled) connection, so the shared connection of the request path
	 * keeps flushing each command.
	 * @return the post-processor
	 */
	@Bean
	static BeanPostProcessor redisPipelinesFlushOnClose() {
		return new BeanPostProcessor() {
			@Override
			public Object postProcessBeforeInitialization(Object bean, String beanName) {
				if (bean instanceof LettuceConnectionFactory factory) {
					factory.setPipeliningFlushPolicy(LettuceConnection.PipeliningFlushPolicy.flushOnClose());
				}
				return bean;
			}
		};
	}

	@Bean
	ClientResourcesBuilderCustomizer quotaQuickReconnect() {
		return (resources) -> resources
			.reconnectDelay(Delay.exponential(Duration.ofMillis(10), Duration.ofSeconds(1), 2, TimeUnit.MILLISECONDS));
	}

}
