/**
 * Endpoint registry built from the cluster's pod view, endpoint health and load-balancing
 * policies.
 */
package dev.tiergate.routing;
