package dev.tiergate.quota;

import java.time.Clock;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * Quota's beans.
 */
@Configuration(proxyBeanMethods = false)
class QuotaConfiguration {

	@Bean
	TenantStore tenantStore(StringRedisTemplate redis, Clock clock) {
		return new TenantStore(redis, clock);
	}

}
