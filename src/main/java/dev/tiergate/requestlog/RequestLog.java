package dev.tiergate.requestlog;

/**
 * Where the request path hands its completed requests. An append never blocks and never
 * touches the network: records are buffered and written in batches off the caller's
 * thread; when the buffer is full the record is dropped and counted.
 */
@FunctionalInterface
public interface RequestLog {

	/** A log that keeps nothing (the log switched off, and tests that do not need it). */
	RequestLog NONE = (record) -> {
	};

	/**
	 * Appends a completed request.
	 * @param record the request
	 */
	void append(RequestRecord record);

}
