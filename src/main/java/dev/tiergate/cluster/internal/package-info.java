/**
 * Informer wiring and the mapping from Kubernetes objects to the cluster module's
 * records.
 */
package dev.tiergate.cluster.internal;
