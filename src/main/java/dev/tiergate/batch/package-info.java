/**
 * OpenAI's Files and Batch APIs, the checkpointed job queue in Redis Streams and the
 * batch workers that fill idle slots.
 */
package dev.tiergate.batch;
