package dev.tiergate.batch;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Optional;

/**
 * Where files live, per tenant: written once as a stream of bytes, read back as one,
 * never changed. Small on purpose, so that an object store can replace the Redis
 * implementation (which keeps a file in chunks, no value larger than
 * {@code tiergate.batch.chunk-size}). A file is visible only once its upload is
 * committed; an upload that is closed without a commit leaves nothing behind.
 */
public interface FileStore {

	/**
	 * Starts writing a new file.
	 * @param tenant the owner
	 * @param id the new file's id
	 * @return the upload, to be committed or closed
	 */
	Upload begin(String tenant, String id);

	/**
	 * A file's description.
	 * @param tenant the owner
	 * @param id the file
	 * @return the file, or empty when this tenant has no such file
	 */
	Optional<StoredFile> find(String tenant, String id);

	/**
	 * A tenant's files, newest first.
	 * @param tenant the owner
	 * @return the files
	 */
	List<StoredFile> list(String tenant);

	/**
	 * Reads a file's content.
	 * @param tenant the owner
	 * @param id the file
	 * @return the content, or empty when this tenant has no such file
	 */
	Optional<InputStream> open(String tenant, String id);

	/**
	 * Deletes a file and its content.
	 * @param tenant the owner
	 * @param id the file
	 * @return whether it existed
	 */
	boolean delete(String tenant, String id);

	/**
	 * A file being written.
	 */
	interface Upload extends AutoCloseable {

		/**
		 * Appends bytes.
		 * @param bytes the buffer
		 * @param offset where the bytes start
		 * @param length how many
		 * @throws IOException if the store fails
		 */
		void write(byte[] bytes, int offset, int length) throws IOException;

		/**
		 * Makes the file visible.
		 * @param filename its name
		 * @param purpose its purpose
		 * @param createdAt epoch seconds
		 * @return the stored file
		 * @throws IOException if the store fails
		 */
		StoredFile commit(String filename, String purpose, long createdAt) throws IOException;

		/**
		 * Discards what was written unless the file was committed.
		 */
		@Override
		void close();

	}

}
