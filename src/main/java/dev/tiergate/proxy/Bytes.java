package dev.tiergate.proxy;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Searches in byte ranges, for the filters and stamps that read answers as they pass
 * without decoding them: an ASCII pattern cannot match inside a multi-byte UTF-8
 * character, so a byte search finds what a text search would.
 */
final class Bytes {

	private Bytes() {
	}

	/**
	 * The bytes of an ASCII text.
	 * @param text the text
	 * @return its bytes
	 */
	static byte[] ascii(String text) {
		return text.getBytes(StandardCharsets.US_ASCII);
	}

	/**
	 * Where a pattern first occurs in {@code [from, to)}.
	 * @param bytes the bytes
	 * @param from the first index searched
	 * @param to the index after the last
	 * @param pattern the pattern (not empty)
	 * @return its index, or -1
	 */
	static int indexOf(byte[] bytes, int from, int to, byte[] pattern) {
		byte first = pattern[0];
		for (int i = from; i <= to - pattern.length; i++) {
			if (bytes[i] == first && Arrays.equals(bytes, i, i + pattern.length, pattern, 0, pattern.length)) {
				return i;
			}
		}
		return -1;
	}

	/**
	 * Where a byte first occurs in {@code [from, to)}.
	 * @param bytes the bytes
	 * @param from the first index searched
	 * @param to the index after the last
	 * @param wanted the byte
	 * @return its index, or -1
	 */
	static int indexOf(byte[] bytes, int from, int to, byte wanted) {
		for (int i = from; i < to; i++) {
			if (bytes[i] == wanted) {
				return i;
			}
		}
		return -1;
	}

	/**
	 * Where a byte last occurs in {@code [from, to)}.
	 * @param bytes the bytes
	 * @param from the first index searched
	 * @param to the index after the last
	 * @param wanted the byte
	 * @return its index, or -1
	 */
	static int lastIndexOf(byte[] bytes, int from, int to, byte wanted) {
		for (int i = to - 1; i >= from; i--) {
			if (bytes[i] == wanted) {
				return i;
			}
		}
		return -1;
	}

	/**
	 * Whether {@code [from, to)} starts with a prefix.
	 * @param bytes the bytes
	 * @param from the range's start
	 * @param to the index after its end
	 * @param prefix the prefix
	 * @return whether it does
	 */
	static boolean startsWith(byte[] bytes, int from, int to, byte[] prefix) {
		return to - from >= prefix.length && Arrays.equals(bytes, from, from + prefix.length, prefix, 0, prefix.length);
	}

}
