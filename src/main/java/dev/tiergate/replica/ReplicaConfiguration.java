package dev.tiergate.replica;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The one {@link ReplicaIdentity} of this application context.
 */
@Configuration(proxyBeanMethods = false)
class ReplicaConfiguration {

	@Bean
	ReplicaIdentity replicaIdentity(@Value("${tiergate.replica.id:}") String configured) {
		return ReplicaIdentity.of(configured, System.getenv("HOSTNAME"));
	}

}
