/**
 * Tiergate: a control plane for mixed-priority LLM inference on shared GPUs.
 */
package dev.tiergate;
