package dev.tiergate.audit;

import java.time.Clock;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * The audit log's bean.
 */
@Configuration(proxyBeanMethods = false)
class AuditConfiguration {

	@Bean
	AuditLog auditLog(StringRedisTemplate redis, AuditProperties properties, Clock clock) {
		return new AuditLog(redis, properties, clock);
	}

}
