package dev.tiergate.replica;

import java.security.SecureRandom;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Request ids that no other process makes, made without secure random bytes: a 64-bit
 * prefix drawn from {@link SecureRandom} once per process (when this class is loaded),
 * then a per-process counter passed through a keyed 64-bit permutation, written like a
 * UUID: {@code 8-4-4-4-12} lowercase hex that {@link UUID#fromString} reads back, though
 * not an RFC 9562 UUID of any version. {@link UUID#randomUUID()} read
 * {@code /dev/urandom} under a lock for every id.
 * <p>
 * Within a process ids never repeat: the counter does not (2^64 values) and the
 * permutation is a bijection. Two processes' ids differ in their prefixes, unless two
 * 64-bit random draws are equal. The permutation is the SplitMix64 finalizer between two
 * XORs with a second secret drawn with the prefix (single-key Even-Mansour), so that an
 * id, which a client sees in {@code x-request-id}, does not tell how many requests this
 * process has served: the finalizer alone is public and easily undone.
 */
public final class RequestIds {

	private static final RequestIds PROCESS = create();

	private final long prefix;

	private final long key;

	private final AtomicLong counter = new AtomicLong();

	/**
	 * A generator of ids starting with the given prefix.
	 * @param prefix the 64 bits every id of this generator starts with
	 * @param key the secret that hides the counter
	 */
	RequestIds(long prefix, long key) {
		this.prefix = prefix;
		this.key = key;
	}

	private static RequestIds create() {
		SecureRandom random = new SecureRandom();
		return new RequestIds(random.nextLong(), random.nextLong());
	}

	/**
	 * A new id, unique to this process.
	 * @return the id, 36 characters like {@code 3f2a9c1e-77b0-4d21-8e5a-0c9f14b2d6e3}
	 */
	public static String next() {
		return PROCESS.nextId();
	}

	String nextId() {
		long count = this.counter.getAndIncrement();
		return new UUID(this.prefix, mix(count ^ this.key) ^ this.key).toString();
	}

	/**
	 * The SplitMix64 finalizer (Stafford's variant 13 of the murmur3 finalizer): a
	 * bijection on 64-bit values, since each xorshift and each multiplication by an odd
	 * constant can be undone.
	 * @param z the value
	 * @return the mixed value
	 */
	static long mix(long z) {
		z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
		z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
		return z ^ (z >>> 31);
	}

}
