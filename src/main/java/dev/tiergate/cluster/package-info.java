/**
 * Kubernetes reads and writes: node and pod informers, slice inventory, sharing profiles,
 * PriorityClasses.
 */
package dev.tiergate.cluster;
