package dev.tiergate.batch;

/**
 * A file as the Files API describes it (OpenAI's file object, without the content).
 *
 * @param id e.g. {@code file-6f1c...}
 * @param tenant the tenant that owns it
 * @param bytes its size
 * @param createdAt when it was stored, epoch seconds
 * @param filename the name it was uploaded with
 * @param purpose {@code batch} for uploads, {@code batch_output} for what batches write
 */
public record StoredFile(String id, String tenant, long bytes, long createdAt, String filename, String purpose) {
}
