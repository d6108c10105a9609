package dev.tiergate.batch.internal;

import java.util.regex.Pattern;

/**
 * The Redis keys of batch work. Everything of a tenant is under
 * {@code tg:batch:{<tenant>}:}, a Redis Cluster hash tag, so one tenant's files, batches
 * and queues share a slot and its scripts may touch several of them at once. The one key
 * outside is {@link #ACTIVE}, the index of unfinished batches that workers of every
 * replica scan.
 */
public final class BatchKeys {

	/** Sorted set of unfinished batches ({@code <tenant>/<batch id>}), by creation. */
	public static final String ACTIVE = "tg:batch:active";

	/**
	 * Pub/sub channel on which a batch's activation is announced (the message is
	 * {@code <tenant>/<batch id>}), so that idle workers look at once instead of at their
	 * next idle poll.
	 */
	public static final String ACTIVATED = "tg:batch:activated";

	private static final Pattern ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");

	private BatchKeys() {
	}

	/**
	 * The prefix of one tenant's keys.
	 * @param tenant the tenant
	 * @return {@code tg:batch:{<tenant>}:}
	 */
	public static String prefix(String tenant) {
		return "tg:batch:{" + tenant + "}:";
	}

	/**
	 * Whether an id from a URL may become part of a key.
	 * @param id the id
	 * @return {@code true} for letters, digits, {@code -} and {@code _}, up to 64
	 */
	public static boolean validId(String id) {
		return id != null && ID.matcher(id).matches();
	}

}
