/**
 * Tiergate's own request log: one record per completed request (time, tenant, tier,
 * model, tokens, queue wait, TTFT, duration), buffered off the request thread into a
 * bounded Redis stream per day, and exported as JSON lines or CSV that the simulator
 * reads back as a trace.
 */
package dev.tiergate.requestlog;
