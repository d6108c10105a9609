package dev.tiergate.proxy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

import dev.tiergate.tier.Tier;

/**
 * Adds OpenAI's {@code service_tier} (what the request got: {@code priority},
 * {@code default} or {@code flex}) to each completion chunk of a server-sent event stream
 * as it passes through. Complete events are written at once, each with the field appended
 * to its JSON object; a partial event waits for its end, so the client still gets every
 * event as soon as it is whole.
 */
final class ServiceTierStamp {

	private final String field;

	private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

	ServiceTierStamp(Tier tier) {
		this.field = ",\"service_tier\":\"" + serviceTier(tier) + "\"";
	}

	/**
	 * OpenAI's name for what a tier gives.
	 * @param tier the tier
	 * @return {@code priority}, {@code default} or {@code flex}
	 */
	static String serviceTier(Tier tier) {
		return switch (tier) {
			case P0 -> "priority";
			case P1 -> "default";
			case P2 -> "flex";
		};
	}

	/**
	 * Passes bytes through, writing every event completed by them.
	 * @param bytes bytes from upstream
	 * @param length how many
	 * @param out the client
	 * @throws IOException if the client is gone
	 */
	void write(byte[] bytes, int length, OutputStream out) throws IOException {
		this.pending.write(bytes, 0, length);
		byte[] all = this.pending.toByteArray();
		int end = lastEventEnd(all);
		if (end < 0) {
			return;
		}
		out.write(stamp(new String(all, 0, end, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8));
		this.pending.reset();
		this.pending.write(all, end, all.length - end);
	}

	/**
	 * Writes what is left at the end of a stream that ended normally.
	 * @param out the client
	 * @throws IOException if the client is gone
	 */
	void finish(OutputStream out) throws IOException {
		if (this.pending.size() > 0) {
			out.write(this.pending.toByteArray());
			this.pending.reset();
		}
	}

	/**
	 * A whole JSON answer with the field appended to its top-level object, spliced into
	 * the bytes without parsing them.
	 * @param answer the upstream's JSON answer
	 * @param tier the tier the request was served at
	 * @return the stamped answer, or {@code null} when the bytes are not one object
	 * without the field already (the caller then rewrites the parsed answer)
	 */
	static byte[] stampWhole(byte[] answer, Tier tier) {
		int first = 0;
		while (first < answer.length && Character.isWhitespace(answer[first])) {
			first++;
		}
		int last = answer.length - 1;
		while (last > first && Character.isWhitespace(answer[last])) {
			last--;
		}
		if (first >= last || answer[first] != '{' || answer[last] != '}' || contains(answer, FIELD_NAME)) {
			return null;
		}
		boolean empty = true;
		for (int i = first + 1; i < last && empty; i++) {
			empty = Character.isWhitespace(answer[i]);
		}
		byte[] field = ((empty ? "" : ",") + "\"service_tier\":\"" + serviceTier(tier) + "\"")
			.getBytes(StandardCharsets.UTF_8);
		byte[] stamped = new byte[answer.length + field.length];
		System.arraycopy(answer, 0, stamped, 0, last);
		System.arraycopy(field, 0, stamped, last, field.length);
		System.arraycopy(answer, last, stamped, last + field.length, answer.length - last);
		return stamped;
	}

	private static final byte[] FIELD_NAME = "\"service_tier\"".getBytes(StandardCharsets.UTF_8);

	private static boolean contains(byte[] haystack, byte[] needle) {
		outer: for (int i = 0; i + needle.length <= haystack.length; i++) {
			for (int j = 0; j < needle.length; j++) {
				if (haystack[i + j] != needle[j]) {
					continue outer;
				}
			}
			return true;
		}
		return false;
	}

	/** Index just after the last blank line ending an event, or -1. */
	private static int lastEventEnd(byte[] bytes) {
		for (int i = bytes.length - 1; i > 0; i--) {
			if (bytes[i] == '\n' && (bytes[i - 1] == '\n' || (bytes[i - 1] == '\r' && i > 1 && bytes[i - 2] == '\n'))) {
				return i + 1;
			}
		}
		return -1;
	}

	private String stamp(String events) {
		StringBuilder result = new StringBuilder(events.length() + 64);
		int start = 0;
		while (start < events.length()) {
			int newline = events.indexOf('\n', start);
			int end = (newline < 0) ? events.length() : newline + 1;
			String line = events.substring(start, end);
			result.append(isChunk(line) ? withField(line) : line);
			start = end;
		}
		return result.toString();
	}

	private static boolean isChunk(String line) {
		return line.startsWith("data: {") && (line.contains("\"object\":\"chat.completion.chunk\"")
				|| line.contains("\"object\":\"text_completion\""));
	}

	private String withField(String line) {
		int close = line.lastIndexOf('}');
		return line.substring(0, close) + this.field + line.substring(close);
	}

}
