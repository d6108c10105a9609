/**
 * Per-tier per-tenant queues, the scheduler and the live runtime that carries out its
 * decisions.
 */
package dev.tiergate.dispatch;

import dev.tiergate.tier.Tiers;
