/**
 * The OpenAI-compatible API and its streaming passthrough to inference endpoints.
 */
package dev.tiergate.proxy;
