package dev.tiergate.batch.internal;

/**
 * One batch item as the queue carries it: everything a worker needs to run it without
 * reading the input file again.
 *
 * @param customId the caller's id, unique in the batch
 * @param line its line in the input file
 * @param body the request body as it goes upstream
 * @param promptTokens the prompt estimate
 * @param maxTokens the completion allowance
 */
public record QueueItem(String customId, int line, String body, long promptTokens, long maxTokens) {
}
