/**
 * Tenants, hashed API keys, quota limits and usage counters in Redis.
 */
package dev.tiergate.quota;
