/**
 * The Redis side of batch work: chunked file storage, batch records, the streams queue.
 */
package dev.tiergate.batch.internal;
