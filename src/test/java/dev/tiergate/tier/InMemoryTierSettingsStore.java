package dev.tiergate.tier;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * A {@link TierSettingsStore} in memory for tests: revisions count up, every write is
 * reported to the watchers at once (as the ConfigMap's informer would), an edit made
 * "with kubectl" is {@link #edit}, and a store that refuses writes (a replica that is not
 * the leader) is {@link #refuseWrites}.
 */
final class InMemoryTierSettingsStore implements TierSettingsStore {

	private final List<Consumer<Stored>> watchers = new CopyOnWriteArrayList<>();

	final List<String> rejected = new ArrayList<>();

	private Stored stored;

	private int revision;

	private RuntimeException refusal;

	synchronized void refuseWrites(RuntimeException refusal) {
		this.refusal = refusal;
	}

	/**
	 * Changes the stored document behind Tiergate's back and tells the watchers.
	 * @param document the new document
	 */
	void edit(String document) {
		Stored edited;
		synchronized (this) {
			edited = next(document);
		}
		this.watchers.forEach((w) -> w.accept(edited));
	}

	synchronized Optional<Stored> current() {
		return Optional.ofNullable(this.stored);
	}

	private Stored next(String document) {
		this.stored = new Stored(Integer.toString(++this.revision), document);
		return this.stored;
	}

	@Override
	public synchronized Optional<Stored> load() {
		return Optional.ofNullable(this.stored);
	}

	@Override
	public Stored createIfAbsent(String document) {
		synchronized (this) {
			if (this.stored != null) {
				return this.stored;
			}
		}
		edit(document);
		return current().orElseThrow();
	}

	@Override
	public Stored save(String document) {
		synchronized (this) {
			if (this.refusal != null) {
				throw this.refusal;
			}
		}
		edit(document);
		return current().orElseThrow();
	}

	@Override
	public void watch(Consumer<Stored> listener) {
		this.watchers.add(listener);
	}

	@Override
	public synchronized void rejected(Stored refused, String reason) {
		this.rejected.add(refused.revision() + ": " + reason);
	}

	@Override
	public String describe() {
		return "memory for tests";
	}

}
