package dev.tiergate.replica;

import java.nio.charset.StandardCharsets;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.listener.ChannelTopic;
import org.springframework.data.redis.listener.RedisMessageListenerContainer;

/**
 * The one {@link ReplicaIdentity} of this application context, and its one subscriber to
 * the channels between replicas ({@link ReplicaSubscription}).
 */
@Configuration(proxyBeanMethods = false)
class ReplicaConfiguration {

	@Bean
	ReplicaIdentity replicaIdentity(@Value("${tiergate.replica.id:}") String configured) {
		return ReplicaIdentity.of(configured, System.getenv("HOSTNAME"));
	}

	@Bean
	RedisMessageListenerContainer replicaMessages(RedisConnectionFactory connections,
			ObjectProvider<ReplicaSubscription> subscriptions) {
		RedisMessageListenerContainer container = new RedisMessageListenerContainer();
		container.setConnectionFactory(connections);
		subscriptions.orderedStream()
			.forEach((subscription) -> container.addMessageListener(
					(message, pattern) -> subscription.onMessage()
						.accept(new String(message.getBody(), StandardCharsets.UTF_8)),
					new ChannelTopic(subscription.channel())));
		return container;
	}

}
