/**
 * Spill to a hosted API: hosted upstreams per model, when each tier may spill, and the
 * monthly spend cap kept exact in Redis.
 */
package dev.tiergate.spill;
