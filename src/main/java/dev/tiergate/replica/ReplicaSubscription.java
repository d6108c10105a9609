package dev.tiergate.replica;

import java.util.function.Consumer;

/**
 * A Redis pub/sub channel this replica listens on, and what it does with each message.
 * Modules declare one as a bean; the replica's one subscriber ({@code replicaMessages},
 * one Redis connection whatever the number of channels) delivers to all of them. Redis
 * delivers a message to every subscriber, the publishing replica's included, and to none
 * that was disconnected when it was sent: a channel says "look now", never carries state
 * that a replica cannot also find by looking later.
 *
 * @param channel the channel
 * @param onMessage given each message's text, on the subscriber's thread (it must not
 * block)
 */
public record ReplicaSubscription(String channel, Consumer<String> onMessage) {

}
