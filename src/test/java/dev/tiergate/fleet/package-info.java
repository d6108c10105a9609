/**
 * A simulated GPU fleet for tests: an in-process Kubernetes API server stand-in for the
 * official client, and official-client models of GPU nodes and inference pods.
 */
package dev.tiergate.fleet;
