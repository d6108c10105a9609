/**
 * Several replicas, one fleet: the replicas register in Redis with a heartbeat, publish
 * their demand, and divide every endpoint's slots among themselves; {@code GET
 * /api/v1/replicas} and the Replicas page show it.
 */
package dev.tiergate.replicas;
