package dev.tiergate.proxy;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Proxy's beans.
 */
@Configuration(proxyBeanMethods = false)
class ProxyConfiguration {

	@Bean
	UpstreamClient upstreamClient(ProxyProperties properties) {
		return new UpstreamClient(properties);
	}

}
