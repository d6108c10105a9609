package dev.tiergate.quota;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

/**
 * Making and hashing API keys. Keys carry 256 random bits, so a fast hash (SHA-256) is
 * enough to store them: unlike passwords they cannot be guessed from a dictionary.
 */
public final class ApiKeys {

	private static final MessageDigest SHA_256 = newSha256();

	private static final SecureRandom random = new SecureRandom();

	private ApiKeys() {
	}

	/**
	 * A new random key.
	 * @param prefix the key's prefix, such as {@code tg-}
	 * @return the key, to be shown once
	 */
	public static String generate(String prefix) {
		byte[] bytes = new byte[32];
		random.nextBytes(bytes);
		return prefix + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
	}

	/**
	 * The stored form of a key.
	 * @param key the key
	 * @return its SHA-256 as lower-case hex
	 */
	public static String hash(String key) {
		return HexFormat.of().formatHex(sha256().digest(key.getBytes(StandardCharsets.UTF_8)));
	}

	/**
	 * A fresh SHA-256 digest, cloned from a prototype: every front-door request hashes
	 * its key, and {@code MessageDigest.getInstance} looked the algorithm up among the
	 * security providers each time (2% of the front door's CPU samples,
	 * docs/benchmarks.md).
	 */
	private static MessageDigest sha256() {
		try {
			return (MessageDigest) SHA_256.clone();
		}
		catch (CloneNotSupportedException ex) {
			return newSha256();
		}
	}

	private static MessageDigest newSha256() {
		try {
			return MessageDigest.getInstance("SHA-256");
		}
		catch (NoSuchAlgorithmException ex) {
			throw new IllegalStateException(ex);
		}
	}

	/**
	 * The part of a key safe to show in listings.
	 * @param key the key
	 * @return its first characters followed by an ellipsis
	 */
	public static String displayPrefix(String key) {
		return key.substring(0, Math.min(key.length(), 7)) + "…";
	}

}
