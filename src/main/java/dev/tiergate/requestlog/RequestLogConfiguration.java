package dev.tiergate.requestlog;

import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * The request log's beans: the Redis log when {@code tiergate.request-log.enabled} (the
 * default), else a log that keeps nothing.
 */
@Configuration(proxyBeanMethods = false)
class RequestLogConfiguration {

	@Bean
	@ConditionalOnProperty(name = "tiergate.request-log.enabled", matchIfMissing = true)
	RedisRequestLog redisRequestLog(StringRedisTemplate redis, RequestLogProperties properties, MeterRegistry meters) {
		return new RedisRequestLog(redis, properties, meters);
	}

	@Bean
	@ConditionalOnProperty(name = "tiergate.request-log.enabled", havingValue = "false")
	RequestLog noRequestLog() {
		return RequestLog.NONE;
	}

}
