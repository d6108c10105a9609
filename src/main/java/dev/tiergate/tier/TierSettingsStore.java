package dev.tiergate.tier;

import java.util.Optional;
import java.util.function.Consumer;

/**
 * Where the tier definitions are kept so that every replica applies the same ones and a
 * restarted replica starts from them; the {@code cluster} module keeps them in a
 * ConfigMap. The store moves documents ({@link TierDocument}'s JSON); {@link Tiers}
 * parses and validates them, so a document nobody may apply (an invalid edit made with
 * kubectl) is refused by every replica the same way. Without a store the definitions live
 * in memory.
 */
public interface TierSettingsStore {

	/**
	 * The stored document.
	 * @return the document and its revision, or empty when none is stored
	 */
	Optional<Stored> load();

	/**
	 * Stores a document unless one is stored already (the properties seed the store once,
	 * and never overwrite it).
	 * @param document the document to store
	 * @return what is stored now: this document, or the one that was there
	 */
	Stored createIfAbsent(String document);

	/**
	 * Replaces the stored document, as a change of the tier definitions.
	 * @param document the new document, valid
	 * @return what was stored
	 * @throws dev.tiergate.problem.TiergateException 503 when this replica may not write
	 * (it is not the leader; the message names the leader) or the store cannot be reached
	 */
	Stored save(String document);

	/**
	 * Registers the callback of every change seen in the store (including one's own
	 * writes, and the stored document once at start).
	 * @param listener called on the store's thread
	 */
	void watch(Consumer<Stored> listener);

	/**
	 * Reports a stored revision that was refused, where operators look (a Kubernetes
	 * Event for the ConfigMap).
	 * @param refused the refused revision
	 * @param reason why, naming the field at fault
	 */
	void rejected(Stored refused, String reason);

	/**
	 * Where the store keeps the document, for messages.
	 * @return e.g. {@code ConfigMap tiergate/tiergate-tiers}
	 */
	String describe();

	/**
	 * A stored document.
	 *
	 * @param revision the store's revision of it (a ConfigMap's resource version)
	 * @param document the document, {@code null} when the store holds none in the
	 * expected place
	 */
	record Stored(String revision, String document) {
	}

}
