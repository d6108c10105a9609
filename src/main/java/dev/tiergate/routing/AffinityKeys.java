package dev.tiergate.routing;

/**
 * 64-bit affinity keys for {@link BalancingPolicy#choose}: FNV-1a over the characters,
 * finished with a 64-bit mix so that similar texts spread over the ring. Never 0 (0 means
 * "no affinity").
 */
public final class AffinityKeys {

	private AffinityKeys() {
	}

	/**
	 * The key of a text's first characters.
	 * @param text the text (a prompt, a session id)
	 * @param maxChars how many characters count
	 * @return the key, never 0; 0 for an empty text
	 */
	public static long of(CharSequence text, int maxChars) {
		int length = Math.min(text.length(), maxChars);
		if (length == 0) {
			return 0;
		}
		long hash = 0xcbf29ce484222325L;
		for (int i = 0; i < length; i++) {
			hash ^= text.charAt(i);
			hash *= 0x100000001b3L;
		}
		long mixed = mix(hash);
		return (mixed != 0) ? mixed : 1;
	}

	/**
	 * A 64-bit finalizer (SplitMix64's).
	 * @param z input
	 * @return mixed bits
	 */
	static long mix(long z) {
		z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
		z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
		return z ^ (z >>> 31);
	}

}
