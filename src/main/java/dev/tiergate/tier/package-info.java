/**
 * The priority tiers (P0 real-time, P1 near-real-time, P2 batch): the one definition that
 * GPU sharing, PriorityClasses and request dispatch share, and its API.
 */
package dev.tiergate.tier;
