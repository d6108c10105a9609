package dev.tiergate.proxy;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import dev.tiergate.tier.Tier;

/**
 * Adds OpenAI's {@code service_tier} (what the request got: {@code priority},
 * {@code default} or {@code flex}) to each completion chunk of a server-sent event stream
 * as it passes through. Complete events are written at once, each with the field appended
 * to its JSON object; a partial event waits for its end, so the client still gets every
 * event as soon as it is whole (up to {@link #MAX_PENDING} bytes of it).
 */
final class ServiceTierStamp {

	private static final byte[] PRIORITY = fieldOf(Tier.P0);

	private static final byte[] DEFAULT = fieldOf(Tier.P1);

	private static final byte[] FLEX = fieldOf(Tier.P2);

	private static final byte[] DATA_OBJECT = Bytes.ascii("data: {");

	private static final byte[] CHAT_CHUNK = Bytes.ascii("\"object\":\"chat.completion.chunk\"");

	private static final byte[] TEXT_COMPLETION = Bytes.ascii("\"object\":\"text_completion\"");

	/**
	 * Most bytes of an event held back until its end (as {@link QuotaPermits} inspects
	 * SSE lines up to 256 KB); beyond it they pass unstamped.
	 */
	static final int MAX_PENDING = 256 * 1024;

	private final byte[] field;

	/** The start of an event not yet whole, kept until its end arrives. */
	private byte[] pending;

	private int pendingLength;

	ServiceTierStamp(Tier tier) {
		this.field = switch (tier) {
			case P0 -> PRIORITY;
			case P1 -> DEFAULT;
			case P2 -> FLEX;
		};
	}

	private static byte[] fieldOf(Tier tier) {
		return Bytes.ascii(",\"service_tier\":\"" + serviceTier(tier) + "\"");
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
	 * Passes bytes through, writing every event completed by them: the bytes are written
	 * as they are, in pieces split where a chunk's field goes, and copied only when an
	 * event is not yet whole (ASCII markers and braces cannot occur inside a multi-byte
	 * UTF-8 character, so no text is decoded).
	 * @param bytes bytes from upstream
	 * @param offset where they start
	 * @param length how many
	 * @param out the client
	 * @throws IOException if the client is gone
	 */
	void write(byte[] bytes, int offset, int length, OutputStream out) throws IOException {
		if (this.pendingLength + length > MAX_PENDING) {
			// An event longer than any completion chunk, from a broken or hostile
			// endpoint: passed on as it is, with the bytes that came with it, rather than
			// held without bound.
			if (this.pendingLength > 0) {
				out.write(this.pending, 0, this.pendingLength);
			}
			out.write(bytes, offset, length);
			this.pending = null;
			this.pendingLength = 0;
			return;
		}
		if (this.pendingLength == 0) {
			int end = lastEventEnd(bytes, offset, offset + length);
			if (end >= 0) {
				writeStamped(bytes, offset, end, out);
			}
			keep(bytes, (end < 0) ? offset : end, offset + length);
			return;
		}
		keep(bytes, offset, offset + length);
		int end = lastEventEnd(this.pending, 0, this.pendingLength);
		if (end < 0) {
			return;
		}
		writeStamped(this.pending, 0, end, out);
		System.arraycopy(this.pending, end, this.pending, 0, this.pendingLength - end);
		this.pendingLength -= end;
	}

	/** Appends bytes to the pending event. */
	private void keep(byte[] bytes, int from, int to) {
		int n = to - from;
		if (n == 0) {
			return;
		}
		if (this.pending == null) {
			this.pending = new byte[Math.max(256, n)];
		}
		else if (this.pendingLength + n > this.pending.length) {
			this.pending = Arrays.copyOf(this.pending, Math.max(this.pendingLength + n, this.pending.length * 2));
		}
		System.arraycopy(bytes, from, this.pending, this.pendingLength, n);
		this.pendingLength += n;
	}

	/** Writes whole events, each chunk's line with the field before its last brace. */
	private void writeStamped(byte[] bytes, int from, int to, OutputStream out) throws IOException {
		int written = from;
		int line = from;
		while (line < to) {
			int newline = Bytes.indexOf(bytes, line, to, (byte) '\n');
			int lineEnd = (newline < 0) ? to : newline + 1;
			if (isChunk(bytes, line, lineEnd)) {
				int close = Bytes.lastIndexOf(bytes, line, lineEnd, (byte) '}');
				if (close >= 0) {
					out.write(bytes, written, close - written);
					out.write(this.field);
					written = close;
				}
			}
			line = lineEnd;
		}
		if (to > written) {
			out.write(bytes, written, to - written);
		}
	}

	/**
	 * Writes what is left at the end of a stream that ended normally.
	 * @param out the client
	 * @throws IOException if the client is gone
	 */
	void finish(OutputStream out) throws IOException {
		if (this.pendingLength > 0) {
			out.write(this.pending, 0, this.pendingLength);
			this.pendingLength = 0;
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
		return Bytes.indexOf(haystack, 0, haystack.length, needle) >= 0;
	}

	/** Index just after the last blank line ending an event in [from, to), or -1. */
	private static int lastEventEnd(byte[] bytes, int from, int to) {
		for (int i = to - 1; i > from; i--) {
			if (bytes[i] == '\n'
					&& (bytes[i - 1] == '\n' || (bytes[i - 1] == '\r' && i - 2 >= from && bytes[i - 2] == '\n'))) {
				return i + 1;
			}
		}
		return -1;
	}

	/** Whether a line is a completion chunk's data, which gets the field. */
	private static boolean isChunk(byte[] bytes, int from, int to) {
		return Bytes.startsWith(bytes, from, to, DATA_OBJECT) && (Bytes.indexOf(bytes, from, to, CHAT_CHUNK) >= 0
				|| Bytes.indexOf(bytes, from, to, TEXT_COMPLETION) >= 0);
	}

}
