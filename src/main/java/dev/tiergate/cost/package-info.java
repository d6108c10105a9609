/**
 * Cost model, trace readers, the simulator and the GPU service-time model they share.
 */
package dev.tiergate.cost;
