/**
 * Which replica this process is: one name, shared by every module that must tell replicas
 * apart (the batch workers' consumer name, leader election's holder identity, the replica
 * registry). A leaf that every module may use.
 */
package dev.tiergate.replica;
