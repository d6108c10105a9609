/**
 * The replicas' registry and slot ledger in Redis.
 */
package dev.tiergate.replicas.internal;
